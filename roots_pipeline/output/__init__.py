"""Writers: Arrow shards per language, malformed-record lists, and the ledger."""
