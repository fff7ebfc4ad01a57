"""Beam sources: each turns one kind of input (catalogue, oscar, pseudo_crawl) into documents."""
