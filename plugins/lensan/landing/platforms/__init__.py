"""S3/S4 — platform extracts: postmart.vn CSV and voso.vn JSON Lines (gzip), streamed.

    spec       the entities and columns of each platform, the file-name patterns; `describe(name)`
               gives an `Extract` (platform, entity, raw table, extract date)
    reference  `records(path, extract, hasher)`: the reference reader, row by row — the source of
               truth for the rules (dates, booleans, numbers, required ids, duplicate order ids)
    fast       `copy_chunks(path, extract, hasher, prefix)`: what landing streams into COPY — the same
               rows as PostgreSQL COPY text, checked a block and a column at a time with polars, falling
               back to the reference code for anything unusual and for every error
    duplicates exact duplicate lines of one file: `collapse` after the COPY (SQL, exact), `count_repeats`
"""
