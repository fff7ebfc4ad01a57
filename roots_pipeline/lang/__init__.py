"""Languages: the ISO code table every label is checked against (`codes`), the character sets a
language file may name (`characters`), each language's configuration from `languages/<code>.yaml`
(`config`: cutoffs, word splitting, word lists, LID labels), and language identification with
fastText lid.176 (`identify`)."""
