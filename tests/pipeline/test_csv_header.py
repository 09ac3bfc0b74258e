"""Is the first row of a CSV a header? Decided the way users expect, said in one line.

``predict`` compares the first row with the model's training columns: a row of numbers is data;
a row naming the columns is the header; a data row with a typo (``abc,10.38,...``) is refused
rather than dropped; a header with other names is refused unless the counts match and the user
asked for positions (``--by-position``). Training reads a headerless CSV (the Data tab's upload
too) with its first row as data, never as column names.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

import nablanet as nb
from nablanet import data as nd
from nablanet.cli import main
from nablanet.pipeline.errors import InputError
from nablanet.pipeline.trained import TrainedModel

NAMES = ["radius", "texture", "area"]
ROWS = [[17.99, 10.38, 1001.0], [20.57, 17.77, 1326.0], [19.69, 21.25, 1203.0]]


@pytest.fixture
def model() -> TrainedModel:
    net = nb.Sequential([nb.Dense(3, 1, activation="sigmoid", seed=0)])
    net.compile(loss="binary_crossentropy", optimizer="adam")
    meta = {"task": "binary", "class_names": ["no", "yes"], "feature_names": NAMES}
    return TrainedModel(
        net,
        task="binary",
        class_names=["no", "yes"],
        feature_names=NAMES,
        input_shape=(3,),
        metadata={**meta, "input_shape": [3]},
    )


def write(path, header, rows=ROWS):
    lines = ([",".join(header)] if header else []) + [",".join(map(str, r)) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def read(path, model, **kw):
    from nablanet.pipeline.inputs import read_csv_features

    return read_csv_features(path, model, **kw)


def test_a_numeric_first_row_is_data(tmp_path, model, caplog):
    with caplog.at_level(logging.INFO, logger="nablanet"):
        x = read(write(tmp_path / "a.csv", None), model)
    np.testing.assert_allclose(x, ROWS, rtol=1e-6)  # no row lost
    assert "the first row is numbers: data, no header" in caplog.text


def test_a_header_naming_the_columns_is_used_by_name(tmp_path, model, caplog):
    reordered = [[r[2], r[0], 7, r[1]] for r in ROWS]
    path = write(tmp_path / "b.csv", ["area", "radius", "id", "texture"], reordered)
    with caplog.at_level(logging.INFO, logger="nablanet"):
        x = read(path, model)
    np.testing.assert_allclose(x, ROWS, rtol=1e-6)
    assert "a header naming the model's 3 columns; ignoring column(s) id" in caplog.text


def test_a_data_row_with_a_typo_is_refused_not_dropped(tmp_path, model):
    path = write(tmp_path / "c.csv", None, [["abc", 10.38, 1001.0], *ROWS[1:]])
    with pytest.raises(InputError, match=r"'abc' in column 1\), so it is data .* fix that value"):
        read(path, model)


def test_a_header_with_other_names_is_refused_unless_by_position(tmp_path, model, caplog):
    path = write(tmp_path / "d.csv", ["radius", "txture", "area"])
    with pytest.raises(
        InputError, match=r"missing 'texture'; not the model's: 'txture'.*--by-position"
    ):
        read(path, model)
    with caplog.at_level(logging.INFO, logger="nablanet"):
        x = read(path, model, by_position=True)
    np.testing.assert_allclose(x, ROWS, rtol=1e-6)
    assert "taking the 3 columns in order, as asked (--by-position)" in caplog.text
    # positions need the counts to match
    wide = write(tmp_path / "e.csv", ["a", "b", "c", "d"], [[*r, 0] for r in ROWS])
    with pytest.raises(InputError, match=r"wrong feature count: .* the file has 4 column"):
        read(wide, model, by_position=True)


def test_the_cli_flag(tmp_path, model, capsys):
    model_path = model.save(tmp_path / "m.npz")
    path = write(tmp_path / "f.csv", ["x1", "x2", "x3"])
    assert main(["predict", "--model", str(model_path), "--input", str(path)]) == 2
    assert "--by-position" in capsys.readouterr().err
    code = main(["predict", "--model", str(model_path), "--input", str(path), "--by-position"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert len(out.strip().splitlines()) == 1 + len(ROWS)


# -- the data side: training and the Data tab ---------------------------------------------------
def test_a_headerless_training_csv_keeps_its_first_row(tmp_path, caplog):
    rows = [[*r, i % 2] for i, r in enumerate(ROWS * 2)]
    path = write(tmp_path / "train.csv", None, rows)
    assert nd.csv_columns(path) == (["column_1", "column_2", "column_3", "column_4"], False)
    with caplog.at_level(logging.INFO, logger="nablanet"):
        ds = nd.load_csv(path, target="column_4")
    assert len(ds.x) == len(rows)  # the first row is data
    np.testing.assert_allclose(ds.x[0], ROWS[0], rtol=1e-6)
    assert "the first row is numbers, so it is data and the file has no header" in caplog.text
    with pytest.raises(nd.DataError, match=r"no target column 'target'.*name a column_<n>"):
        nd.load_csv(path, target="target")


def test_headerless_with_text_labels_and_a_typo_row(tmp_path):
    rows = [[*r, kind] for r, kind in zip(ROWS, ["cat", "dog", "cat"])]
    labels = write(tmp_path / "labels.csv", None, rows)
    assert nd.csv_columns(labels)[1] is False  # text in the same column on every row: labels
    ds = nd.load_csv(labels, target="column_4")
    assert ds.class_names == ["cat", "dog"] and len(ds.x) == 3
    typo = write(tmp_path / "typo.csv", None, [["abc", 10.38, 1001.0, 0], [1.0, 2.0, 3.0, 1]])
    with pytest.raises(nd.DataError, match="'abc' looks like a typo"):
        nd.csv_columns(typo)


def test_the_data_tab_lists_the_columns_of_a_headerless_csv(tmp_path):
    pytest.importorskip("gradio")
    from nablanet.ui import data_view

    path = write(tmp_path / "up.csv", None, [[*r, i % 2] for i, r in enumerate(ROWS)])
    columns = data_view.csv_columns(path)
    assert columns == ["column_1", "column_2", "column_3", "column_4"]  # not "17.99", ...
    spec = data_view.upload_spec(path, columns[-1])
    assert len(nd.load_dataset(spec).x) == len(ROWS)
