"""COPY text, the shared end of both fast readers of platform extracts (`platforms.fast`): values escaped
for PostgreSQL COPY, phone columns pseudonymised, the order ids' (or rows') 64-bit hashes kept to tell
whether rows may repeat, and the lines written with polars' CSV writer."""

from __future__ import annotations

import io

import polars as pl

from lensan.landing import identity
from lensan.landing.platforms.spec import PHONE, Extract

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_value(value: str | None) -> str:
    return "" if value is None else value.translate(_COPY_ESCAPES)


def text_frame(names, cols) -> pl.DataFrame:
    return pl.DataFrame({name: col for name, col in zip(names, cols)}, schema={name: pl.String for name in names})


class Columns:
    """Shared end of both platforms: pseudonymise the phone columns, keep order ids' hashes, format COPY
    text."""

    def __init__(self, extract: Extract, hasher, prefix: str):
        self.kinds = [k for _, _, k in extract.spec]
        self.names = list(extract.columns)
        self.phone_cols = [i for i, k in enumerate(self.kinds) if k == PHONE]
        self.order_col = extract.columns.index("order_id") if "order_id" in extract.columns else None
        # 8 bytes a row, not a set of strings (~100 bytes a row): order ids (orders), else whole rows
        self.key_hashes: list[pl.Series] = []
        self.hasher = hasher
        self.prefix = prefix
        self.rows = 0

    def from_values(self, values: list[list[str | None]]) -> pl.DataFrame:
        """COPY text of rows validated by the exact functions (None for blank); phone columns as given
        (raw, or already hashed by records())."""
        width = len(self.kinds)
        cols = [[copy_value(row[i]) for row in values] for i in range(width)]
        for i in self.phone_cols:
            cols[i] = [row[i] or "" for row in values]
        return text_frame(self.names, cols)

    def emit(self, frame: pl.DataFrame, hashed: bool = False) -> tuple[int, bytes]:
        """(rows, COPY text) of the frame (COPY text values, '' = NULL): `prefix`, the columns, row_number."""
        n = frame.height
        if not hashed:      # rows from records() are hashed already
            frame = frame.with_columns(self.hash_phones(frame.get_column(self.names[i])) for i in self.phone_cols)
        self.key_hashes.append(frame.get_column(self.names[self.order_col]).hash(seed=0)
                               if self.order_col is not None else frame.hash_rows(seed=0))
        first = self.rows + 1
        self.rows += n
        # the prefix ('file_id<TAB>extract_date') is one literal column; values hold no tab or newline
        # unescaped, so the CSV writer without quoting writes exactly COPY text
        lines = frame.select(pl.lit(self.prefix, dtype=pl.String).alias("\x00prefix"), pl.all(),
                             pl.int_range(first, first + n, dtype=pl.Int64).alias("\x00row_number"))
        out = io.BytesIO()
        lines.write_csv(out, include_header=False, separator="\t", line_terminator="\n", quote_style="never",
                        null_value="")
        return n, out.getvalue()

    def may_repeat(self) -> bool:
        """False when the file's order ids (orders) or rows (other entities) are all distinct; True if two
        of them share a 64-bit hash (a repeat, or very rarely a collision)."""
        if not self.key_hashes:
            return False
        hashes = pl.concat(self.key_hashes)
        return hashes.n_unique() != hashes.len()

    def hash_phones(self, raw: pl.Series) -> pl.Series:
        """Hex HMAC of each raw phone ('' when blank)."""
        if self.hasher is None:
            return pl.Series(raw.name, [""] * len(raw), dtype=pl.String)
        hex_digest_expr = getattr(self.hasher, "hex_digest_expr", None)
        hashed = hex_digest_expr("phone", pl.col("canonical")) if hex_digest_expr is not None else None
        if hashed is None:
            return pl.Series(raw.name, [copy_value(self.hasher("phone", v) if v else None) for v in raw.to_list()],
                             dtype=pl.String)
        # identity.phone (the one rule), vectorised for the usual spellings, once per distinct value otherwise
        return (identity.phone_series(raw).to_frame("canonical")
                .select(pl.when(pl.col("canonical").is_not_null()).then(hashed).otherwise(pl.lit("")).alias(raw.name))
                .to_series())
