import narwhals as nw
import polars as pl


def test_constructor_gives_the_same_frame_back_on_every_engine(constructor):
    df = pl.DataFrame({"a": ["x", "y", "x"], "v": [1.0, 2.0, 3.0]})
    native = constructor(df)
    out = (
        nw.from_native(native)
        .lazy()
        .group_by("a")
        .agg(nw.col("v").sum())
        .sort("a")
        .collect(backend="polars")
        .to_native()
    )
    assert out.to_dict(as_series=False) == {"a": ["x", "y"], "v": [4.0, 2.0]}
