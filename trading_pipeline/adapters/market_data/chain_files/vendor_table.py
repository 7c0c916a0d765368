"""A vendor file's data rows read as text, coerced field by field with errors naming file, line and value.

Every value is read as text first, so a number or date stored as text is parsed here or refused here,
never handed on to fail later as a TypeError.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from trading_pipeline.adapters.market_data.chain_files.recorded import ChainFileError
from trading_pipeline.core.calendar import NotASessionError, session_close
from trading_pipeline.core.instruments import (
    OccSymbolError,
    canonical_occ_symbol,
    format_occ_symbol,
)

#: How many leading lines layout detection and the cheap index look at.
HEAD_LINES = 5
ENCODING = "utf-8-sig"
#: A canonical OCC symbol ends in yymmdd, C/P and the strike x 1000 in 8 digits, after the padded root.
OCC_TAIL = 15
OCC_TAIL_PATTERN = r"\d{6}[CP]\d{8}"


def head_lines(path: Path) -> list[str]:
    """The first HEAD_LINES lines of a file, without line endings."""
    try:
        with path.open(encoding=ENCODING) as handle:
            return [line.rstrip("\r\n") for line, _ in zip(handle, range(HEAD_LINES), strict=False)]
    except (OSError, UnicodeDecodeError) as exc:
        raise ChainFileError(f"{path}: cannot read: {exc}") from None


def line_error(path: Path, line: int, field: str, value: object, expected: str) -> ChainFileError:
    """The one error shape: file, 1-based line, field, value and what was expected."""
    return ChainFileError(f"{path} line {line}: field {field!r} has {value!r}; expected {expected}")


def header_is(head: list[str], columns: Sequence[str], spaced: bool = False) -> bool:
    """Whether the first line names exactly `columns` (`spaced`: blanks after the commas)."""
    return bool(head) and next(csv.reader(head[:1], skipinitialspace=spaced)) == list(columns)


def first_row(path: Path, head: list[str], columns: Sequence[str], spaced: bool = False) -> dict[str, str]:
    """Line 2 of a one-header-line file as {column: text}, for identifying a file without reading it all."""
    fields = next(csv.reader(head[1:2], skipinitialspace=spaced), [])
    if len(fields) != len(columns):
        raise line_error(path, 2, "data row", head[1] if len(head) > 1 else "", f"{len(columns)} fields")
    return {column: field.strip() for column, field in zip(columns, fields, strict=True)}


def parsed_date(path: Path, line: int, field: str, text: str, fmt: str) -> date:
    """One vendor date, or an error naming its line."""
    try:
        return datetime.strptime(text.strip(), fmt).date()
    except ValueError:
        raise line_error(path, line, field, text, f"a date like {fmt}") from None


def before_close(path: Path, line: int, field: str, day: date, lead: timedelta = timedelta(0)) -> datetime:
    """`lead` before the session close of `day` (16:00 ET, 13:00 on half-days): end-of-day quote times."""
    try:
        return session_close(day) - lead
    except NotASessionError:
        raise line_error(path, line, field, day.isoformat(), "an NYSE trading session") from None


@dataclass(frozen=True)
class VendorTable:
    """Data rows of a vendor file as text; `header_line` is the 1-based file line of the column names."""

    path: Path
    rows: pd.DataFrame
    header_line: int

    @classmethod
    def read(
        cls, path: Path, columns: Sequence[str], header_line: int = 1, spaced: bool = False
    ) -> VendorTable:
        """Read every field as text; the header must name exactly `columns` (pandas suffixes repeats .1)."""
        try:
            rows = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                skiprows=header_line - 1,
                skip_blank_lines=False,
                skipinitialspace=spaced,
                encoding=ENCODING,
            )
        except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise ChainFileError(f"{path}: cannot read: {exc}") from None
        if list(rows.columns) != list(columns):
            raise line_error(path, header_line, "header", ",".join(rows.columns), ",".join(columns))
        return cls(path, rows, header_line)

    def line(self, position: int) -> int:
        """The 1-based file line of data row `position`."""
        return self.header_line + 1 + position

    @property
    def lines(self) -> list[int]:
        return [self.line(position) for position in range(len(self.rows))]

    def fail(self, position: int, column: str, expected: str) -> ChainFileError:
        value = str(self.rows[column].iloc[position])
        return line_error(self.path, self.line(position), column, value, expected)

    def _first_bad(self, column: str, bad: np.ndarray, expected: str) -> None:
        if bad.any():
            raise self.fail(int(bad.argmax()), column, expected)

    def numbers(self, column: str, non_negative: bool = False) -> np.ndarray:
        """A column as floats; empty or non-numeric text (or a negative, when refused) is an error."""
        text = self.rows[column]
        try:
            values = text.astype(float).to_numpy()
        except (TypeError, ValueError):  # some field is not plain numeric text: find it
            values = pd.to_numeric(text.str.strip(), errors="coerce").to_numpy(dtype=float)
        self._first_bad(column, ~np.isfinite(values), "a number")
        if non_negative:
            self._first_bad(column, values < 0, "a number >= 0")
        return values

    def dates(self, column: str, fmt: str) -> pd.Series:
        """A column as datetime64 dates in the vendor's `fmt`."""
        parsed = pd.to_datetime(self.rows[column].str.strip(), format=fmt, errors="coerce")
        self._first_bad(column, parsed.isna().to_numpy(), f"a date like {fmt}")
        return parsed

    def single(self, column: str) -> str:
        """The one value a column holds on every row (the quote date, the underlying)."""
        values = self.rows[column].str.strip()
        if values.empty:
            raise ChainFileError(f"{self.path}: no data rows after line {self.header_line}")
        self._first_bad(column, (values != values.iloc[0]).to_numpy(), f"{values.iloc[0]!r} as on every row")
        return str(values.iloc[0])

    def single_date(self, column: str, fmt: str) -> date:
        """The one date a column holds on every row."""
        parsed = pd.to_datetime(self.single(column), format=fmt, errors="coerce")
        if pd.isna(parsed):
            raise self.fail(0, column, f"a date like {fmt}")
        return parsed.date()

    def contracts(
        self, column: str, expirations: pd.Series, strikes: np.ndarray, rights: list[str]
    ) -> pd.DataFrame:
        """Contracts (occ_symbol, root, expiration, strike, right) from the vendor's OCC symbols, compact or
        padded, made canonical; each symbol must name the expiration, right and strike of its row.

        canonical_occ_symbol normalises each distinct root part (a handful per file); the fixed-width tail
        (yymmdd, C/P, strike x 1000) is checked for every row at once against the row's own columns.
        """
        texts = self.rows[column].str.strip().str.upper()
        heads, tails = texts.str[:-OCC_TAIL], texts.str[-OCC_TAIL:]
        canonical_heads = {}
        for head, position in zip(*np.unique(heads.to_numpy(dtype=object), return_index=True), strict=True):
            try:
                canonical_heads[head] = canonical_occ_symbol(texts.iloc[position])[:-OCC_TAIL]
            except OccSymbolError as exc:
                raise self.fail(int(position), column, f"an OCC option symbol ({exc})") from None
        well_formed = tails.str.fullmatch(OCC_TAIL_PATTERN).to_numpy(dtype=bool)
        self._first_bad(column, ~well_formed, "an OCC option symbol ending in yymmdd, C/P and 8 digits")
        named_expirations = pd.to_datetime(tails.str[:6], format="%y%m%d", errors="coerce")
        self._first_bad(column, named_expirations.isna().to_numpy(), "an OCC option symbol with a real date")
        named_strikes = tails.str[7:].astype(int).to_numpy() / 1000
        self._first_bad(column, named_strikes <= 0, "an OCC option symbol with a positive strike")
        mismatch = (
            (named_expirations != expirations).to_numpy()
            | (named_strikes != strikes)
            | (tails.str[6] != pd.Series(rights, dtype=str, index=tails.index)).to_numpy()
        )
        if mismatch.any():
            position = int(mismatch.argmax())
            row = f"{expirations.iloc[position]:%Y-%m-%d} {rights[position]} {strikes[position]:g}"
            raise self.fail(position, column, f"the contract of its row ({row})")
        occ = heads.map(canonical_heads) + tails
        return pd.DataFrame(
            {
                "occ_symbol": occ,
                "root": occ.str[:-OCC_TAIL].str.strip(),
                "expiration": expirations,
                "strike": strikes,
                "right": rights,
            }
        )

    def contracts_from_fields(
        self, root_column: str, expirations: pd.Series, strikes: np.ndarray, rights: list[str]
    ) -> pd.DataFrame:
        """Contracts of a layout without OCC symbols, formatted from root, expiry, strike and right."""
        roots = self.rows[root_column].str.strip().str.upper().tolist()
        symbols = []
        for position, (root, expiration, strike, right) in enumerate(
            zip(roots, expirations.dt.date, strikes, rights, strict=True)
        ):
            try:
                symbols.append(format_occ_symbol(root, expiration, right, strike))
            except OccSymbolError as exc:
                raise self.fail(position, root_column, f"an OCC root and strike ({exc})") from None
        return pd.DataFrame(
            {
                "occ_symbol": symbols,
                "root": roots,
                "expiration": expirations,
                "strike": strikes,
                "right": rights,
            }
        )

    def choice(self, column: str, allowed: Sequence[str]) -> list[str]:
        """A column whose stripped, upper-cased text must be one of `allowed`."""
        values = self.rows[column].str.strip().str.upper()
        self._first_bad(column, (~values.isin(list(allowed))).to_numpy(), " or ".join(allowed))
        return values.tolist()
