"""Local prediction on a file: read rows, predict with a loaded model, write results."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from modelyard.errors import InvalidInputError
from modelyard.registry._package import LoadedModel

__all__ = ["predict_file"]


def predict_file(
    model: LoadedModel,
    source: str | Path,
    output: str | Path | None = None,
    keep: list[str] | None = None,
) -> pd.DataFrame:
    """Predict for every row of a CSV, Parquet or JSON-lines file.

    Args:
        model: a loaded model.
        source: the input file (the model's input columns; others are ignored).
        output: where to write the results (``.csv`` or ``.parquet``); none: not written.
        keep: input columns to copy next to the predictions (e.g. an id).

    Raises:
        NotFoundError, InvalidInputError: the file cannot be read.
        SchemaMismatchError: a required column is missing or has bad values.
    """
    from modelyard.data._readers import read_file

    frame = read_file(source).to_pandas()
    unknown = [c for c in keep or [] if c not in frame.columns]
    if unknown:
        raise InvalidInputError(
            f"cannot keep column(s) {', '.join(unknown)}: not in {source}",
            details={"columns": unknown},
        )
    result = model.predict(frame).to_frame()
    if keep:
        result = pd.concat([frame[keep].reset_index(drop=True), result], axis=1)
    if output is not None:
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".parquet":
            result.to_parquet(path, index=False)
        elif path.suffix == ".csv":
            result.to_csv(path, index=False)
        else:
            raise InvalidInputError(
                f"write predictions to a .csv or .parquet file, not {path.name}"
            )
    return result
