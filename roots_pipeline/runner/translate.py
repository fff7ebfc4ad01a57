"""A dry run: the Runner API pipeline a runner would receive, built and translated but not run.

Each runner gets the pipeline from the place it would start running it:

- DataflowRunner: Beam's own dry run (`TestOptions.dry_run`). The runner applies Dataflow's
  overrides, builds its Docker environment and the list of artifacts it would stage, optimises the
  pipeline as it does for the service, and stops before its first request: no network.
- PortableRunner, FlinkRunner, SparkRunner, PrismRunner: the pipeline as the runner hands it to its
  job server, after the runner's own optimisation; the job server is never started, and a LOOPBACK
  environment stays unstarted.
- DirectRunner: the pipeline as its FnApiRunner receives it, before fusing it into stages.

`summarize` counts what a reviewer of a cluster run wants to see: transforms, shuffles (each
`GroupByKey`), side inputs, environments and the artifacts staged for them.
"""

from __future__ import annotations

import os
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, TestOptions
from apache_beam.portability import common_urns, python_urns
from apache_beam.portability.api import beam_runner_api_pb2
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.runners.runner import PipelineResult, PipelineState

_ENVIRONMENT_TYPES = {
    common_urns.environments.DOCKER.urn: "DOCKER",
    common_urns.environments.PROCESS.urn: "PROCESS",
    common_urns.environments.EXTERNAL.urn: "EXTERNAL",
    common_urns.environments.ANYOF.urn: "ANYOF",
    python_urns.EMBEDDED_PYTHON: "EMBEDDED",
    python_urns.EMBEDDED_PYTHON_GRPC: "EMBEDDED",
    python_urns.EMBEDDED_PYTHON_LOOPBACK: "LOOPBACK",
    python_urns.SUBPROCESS_SDK: "PROCESS",
}


def translate(pipeline: beam.Pipeline) -> beam_runner_api_pb2.Pipeline:
    """Return the Runner API pipeline its runner would receive for `pipeline`, running nothing.

    The pipeline must have been made with `TestOptions.dry_run` set: DataflowRunner checks its
    buckets (over the network) when the pipeline is made, unless it is a dry run."""
    captured: list[beam_runner_api_pb2.Pipeline] = []

    def capture(proto: beam_runner_api_pb2.Pipeline, *_: Any) -> PipelineResult:
        captured.append(proto)
        return PipelineResult(PipelineState.DONE)

    beam_runner = pipeline.runner
    lineage = {cls.__name__ for cls in type(beam_runner).__mro__}
    if "DataflowRunner" in lineage:
        assert pipeline.options.view_as(TestOptions).dry_run, "DataflowRunner would submit the job"
        pipeline.run()
        return beam_runner.proto_pipeline
    if "PortableRunner" in lineage:
        def optimized(proto: beam_runner_api_pb2.Pipeline, opts: PipelineOptions) -> PipelineResult:
            return capture(beam_runner._optimize_pipeline(proto, opts))  # as it would submit it

        beam_runner.run_portable_pipeline = optimized
    else:  # the DirectRunner runs a batch pipeline on an FnApiRunner
        pipeline.runner = FnApiRunner()
        pipeline.runner.run_via_runner_api = capture
    pipeline.run()
    (proto,) = captured
    return proto


def summarize(proto: beam_runner_api_pb2.Pipeline, runner: str) -> dict[str, Any]:
    """Return counts and environments of a Runner API pipeline, as JSON-ready values."""
    transforms = proto.components.transforms.values()
    side_inputs = sum(len(beam_runner_api_pb2.ParDoPayload.FromString(t.spec.payload).side_inputs)
                      for t in transforms if t.spec.urn == common_urns.primitives.PAR_DO.urn)
    environments = [_environment(key, env) for key, env in sorted(proto.components.environments.items())]
    return {
        "runner": runner,
        "transforms": len(transforms),
        "primitive_transforms": sum(1 for t in transforms if not t.subtransforms),
        "shuffles": sum(1 for t in transforms if t.spec.urn == common_urns.primitives.GROUP_BY_KEY.urn),
        "side_inputs": side_inputs,
        "environments": environments,
        "staged_artifacts": sorted({name for env in environments for name in env["artifacts"]}),
    }


def _environment(env_id: str, env: beam_runner_api_pb2.Environment) -> dict[str, Any]:
    kind = _ENVIRONMENT_TYPES.get(env.urn, env.urn)
    if env.urn == common_urns.environments.DOCKER.urn:
        config = beam_runner_api_pb2.DockerPayload.FromString(env.payload).container_image
    elif env.urn == common_urns.environments.EXTERNAL.urn:
        config = beam_runner_api_pb2.ExternalPayload.FromString(env.payload).endpoint.url
    elif env.urn == common_urns.environments.PROCESS.urn:
        config = beam_runner_api_pb2.ProcessPayload.FromString(env.payload).command
    elif env.urn == python_urns.SUBPROCESS_SDK:
        config = env.payload.decode(errors="replace")
    else:
        config = ""
    artifacts = [_artifact(artifact) for artifact in env.dependencies]
    return {"id": env_id, "type": kind, "config": config, "artifacts": artifacts}


def _artifact(artifact: beam_runner_api_pb2.ArtifactInformation) -> str:
    """Return the name an artifact is staged under (or its file's name)."""
    if artifact.role_urn == common_urns.artifact_roles.STAGING_TO.urn:
        return beam_runner_api_pb2.ArtifactStagingToRolePayload.FromString(artifact.role_payload).staged_name
    if artifact.type_urn == common_urns.artifact_types.FILE.urn:
        path = beam_runner_api_pb2.ArtifactFilePayload.FromString(artifact.type_payload).path
        return os.path.basename(path)
    return artifact.type_urn


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """Return the summary as the lines `roots run --dry_run` prints."""
    lines = [f"{summary['transforms']:,} transforms ({summary['primitive_transforms']:,} primitive), "
             f"{summary['shuffles']:,} shuffles, {summary['side_inputs']:,} side inputs"]
    for env in summary["environments"]:
        staged = f", staging {', '.join(env['artifacts'])}" if env["artifacts"] else ""
        lines.append(f"environment {env['id']}: {env['type']} {env['config']}".rstrip() + staged)
    return lines
