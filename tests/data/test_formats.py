"""User data: CSV, .npz, .npy (memory-mapped) and image folders, with their one-line errors."""

from __future__ import annotations

import csv
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nablanet.data import DataError, DataLoader, StandardScaler, load_dataset, load_npy
from nablanet.data.formats import arrays as array_formats


def write_csv(path: Path, header: list[str], rows: list[list], delimiter: str = ",") -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def iris_like(tmp_path) -> Path:
    rows = [
        [1.0 + i, 2.5 * i, i % 3, ["setosa", "versicolor", "virginica"][i % 3]] for i in range(9)
    ]
    return write_csv(tmp_path / "flowers.csv", ["sepal", "petal", "code", "species"], rows)


# -- CSV ---------------------------------------------------------------------------------------
def test_csv_with_string_target(iris_like):
    ds = load_dataset({"csv": str(iris_like), "target": "species"})
    assert ds.name == "flowers" and ds.task == "multiclass"
    assert ds.class_names == ["setosa", "versicolor", "virginica"]
    assert ds.feature_names == ["sepal", "petal", "code"]
    assert ds.x.shape == (9, 3) and ds.x.dtype == np.float32
    assert ds.y.dtype == np.int64 and ds.y.tolist() == [0, 1, 2] * 3
    np.testing.assert_allclose(ds.x[:, 1], 2.5 * np.arange(9))


def test_csv_numeric_target_and_feature_subset(iris_like):
    ds = load_dataset({"csv": iris_like, "target": "code", "features": ["petal"]})
    assert ds.task == "multiclass" and ds.class_names == ["0", "1", "2"]
    assert ds.x.shape == (9, 1) and ds.feature_names == ["petal"]
    reg = load_dataset(
        {"csv": iris_like, "target": "code", "features": ["sepal"], "task": "regression"}
    )
    assert reg.task == "regression" and reg.y.dtype == np.float32 and reg.class_names is None


def test_csv_float_target_is_regression(tmp_path):
    rows = [[i, i * 0.5 + 0.25] for i in range(20)]
    ds = load_dataset(
        {"csv": write_csv(tmp_path / "r.csv", ["a", "price"], rows), "target": "price"}
    )
    assert ds.task == "regression" and ds.y[1] == pytest.approx(0.75)


def test_csv_quotes_whitespace_and_delimiter(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('a; b ;label\n1.5; 2 ;"yes; sure"\n3; 4;no\n')
    ds = load_dataset({"csv": path, "target": "label", "delimiter": ";"})
    assert ds.feature_names == ["a", "b"] and ds.class_names == ["no", "yes; sure"]
    assert ds.x.tolist() == [[1.5, 2.0], [3.0, 4.0]] and ds.task == "binary"


def test_csv_predefined_test_file_shares_the_class_encoding(tmp_path):
    train = write_csv(tmp_path / "train.csv", ["f", "y"], [[1, "b"], [2, "c"], [3, "b"]])
    test = write_csv(tmp_path / "test.csv", ["f", "y"], [[4, "a"], [5, "c"]])
    ds = load_dataset({"csv": train, "target": "y", "test": test})
    assert ds.class_names == ["a", "b", "c"]
    assert ds.y.tolist() == [1, 2, 1] and ds.y_test.tolist() == [0, 2]
    assert ds.x_test.tolist() == [[4.0], [5.0]]


@pytest.mark.parametrize(
    ("content", "spec", "message"),
    [
        ("a,b\n1,2\n", {"target": "label"}, r"no target column 'label'; the columns are a, b"),
        ("a,b\n1,2\n", {"target": "b", "features": ["z"]}, r"no feature column 'z'"),
        (
            "a,color,y\n1,red,0\n2,blue,1\n",
            {"target": "y"},
            r"column 'color' is not numeric \(value 'red' on line 2\)",
        ),
        ("a,b,y\n1,2,0\n3,,1\n", {"target": "y"}, r"column 'b' has a missing value '' on line 3"),
        ("a,b,y\n1,2,0\n3,NaN,1\n", {"target": "y"}, r"column 'b' has a missing value 'NaN'"),
        ("a,b,y\n1,2,0\n3,inf,1\n", {"target": "y"}, r"inf in feature column 'b' \(sample 1\)"),
        ("a,y\n1,0\n2,\n", {"target": "y"}, r"target column 'y' has a missing value"),
        ("a,b,y\n1,2,0\n3,4\n", {"target": "y"}, r"malformed CSV"),
        ("", {"target": "y"}, r"empty CSV file"),
        ("a,y\n", {"target": "y"}, r"header but no data rows"),
        ("a,a,y\n1,2,0\n", {"target": "y"}, r"duplicate column names \['a'\]"),
        ("a,y\n1,x\n2,x\n", {"target": "y"}, r"classification needs at least 2 classes"),
        ("a,y\n1,x\n2,z\n", {"target": "y", "task": "regression"}, r"regression needs numeric"),
        ("a,y\n1,0\n2,1\n3,2\n", {"target": "y", "task": "binary"}, r"exactly 2 classes"),
    ],
)
def test_csv_errors_name_the_file_and_column(tmp_path, content, spec, message):
    path = tmp_path / "data.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message) as info:
        load_dataset({"csv": str(path), **spec})
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_csv_missing_file_and_spec_errors(tmp_path):
    with pytest.raises(DataError, match=r"nope.csv: CSV file not found"):
        load_dataset({"csv": tmp_path / "nope.csv", "target": "y"})
    with pytest.raises(DataError, match=r"missing 'target'"):
        load_dataset({"csv": "x.csv"})
    with pytest.raises(DataError, match=r"unknown option 'targte'; allowed: target"):
        load_dataset({"csv": "x.csv", "targte": "y"})
    with pytest.raises(DataError, match=r"exactly one of the keys csv, npz, npy, images"):
        load_dataset({"csv": "x.csv", "npz": "x.npz"})


# -- npz ---------------------------------------------------------------------------------------
def test_npz_with_test_split_and_names(tmp_path):
    path = tmp_path / "toy.npz"
    rng = np.random.default_rng(0)
    np.savez(
        path,
        x=rng.normal(size=(12, 3)),
        y=np.arange(12) % 3,
        x_test=rng.normal(size=(4, 3)),
        y_test=np.arange(4) % 3,
        class_names=np.array(["r", "g", "b"]),
        feature_names=np.array(["u", "v", "w"]),
    )
    ds = load_dataset({"npz": str(path)})
    assert ds.x.dtype == np.float32 and ds.x.shape == (12, 3) and ds.x_test.shape == (4, 3)
    assert ds.class_names == ["r", "g", "b"] and ds.feature_names == ["u", "v", "w"]
    assert ds.task == "multiclass" and ds.y_test.tolist() == [0, 1, 2, 0]


def test_npz_images_one_hot_targets(tmp_path):
    path = tmp_path / "imgs.npz"
    y = np.eye(4, dtype=np.float32)[[0, 3, 1, 2, 3]]
    np.savez_compressed(path, x=np.zeros((5, 7, 7), np.uint8), y=y)
    ds = load_dataset({"npz": path})
    assert ds.x.shape == (5, 7, 7, 1) and ds.x.dtype == np.uint8 and ds.is_image
    assert ds.value_range == (0.0, 255.0)
    assert ds.y.tolist() == [0, 3, 1, 2, 3] and ds.n_classes == 4


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        (
            {"x": np.zeros((5, 2)), "y": np.zeros(4)},
            r"x has 5 samples but y has 4 \(shapes \(5, 2\) and \(4,\)\)",
        ),
        ({"x": np.zeros((5, 2))}, r"no array 'y' in the archive; it holds x"),
        (
            {"x": np.array([[1.0, np.nan]] * 3), "y": np.array([0, 1, 0])},
            r"nan in features at index \(0, 1\) of array with shape \(3, 2\)",
        ),
        ({"x": np.zeros(4), "y": np.zeros(4)}, r"shape \(n_samples, ...\), got \(4,\)"),
        ({"x": np.array([["a", "b"]] * 2), "y": np.zeros(2)}, r"must be numbers, got dtype <U1"),
        (
            {
                "x": np.zeros((3, 2)),
                "y": np.array([0, 1, 0]),
                "x_test": np.zeros((2, 5)),
                "y_test": np.zeros(2),
            },
            r"test samples have shape \(5,\), training samples \(2,\)",
        ),
    ],
)
def test_npz_errors(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=message) as info:
        load_dataset({"npz": path})
    assert "bad.npz" in str(info.value)


def test_npz_never_unpickles(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, x=np.array([{"evil": 1}] * 3, dtype=object), y=np.zeros(3))
    with pytest.raises(DataError, match=r"array 'x' holds Python objects"):
        load_dataset({"npz": path})


def test_npz_not_an_archive(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(b"not a zip file at all")
    with pytest.raises(DataError, match=r"junk.npz: not a valid .npz file"):
        load_dataset({"npz": path})


# -- npy and memory mapping --------------------------------------------------------------------
def test_npy_pair(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(20, dtype=np.float64).reshape(10, 2))
    np.save(tmp_path / "y.npy", np.linspace(0, 1, 10))
    ds = load_dataset({"npy": {"x": tmp_path / "x.npy", "y": tmp_path / "y.npy"}})
    assert ds.task == "regression" and ds.x.dtype == np.float32
    assert not isinstance(ds.x, np.memmap)  # small files are read into memory


def test_npy_length_mismatch_names_both_files(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((10, 2)))
    np.save(tmp_path / "y.npy", np.zeros(9))
    with pytest.raises(DataError, match=r"x.npy and .*y.npy: x has 10 samples but y has 9"):
        load_dataset({"npy": {"x": tmp_path / "x.npy", "y": tmp_path / "y.npy"}})


def test_npy_spec_errors(tmp_path):
    with pytest.raises(DataError, match=r"expected \{'npy': \{'x': path, 'y': path\}\}"):
        load_dataset({"npy": {"x": "a.npy"}})
    with pytest.raises(DataError, match=r"unknown file key 'z'"):
        load_dataset({"npy": {"x": "a.npy", "y": "b.npy", "z": "c.npy"}})
    with pytest.raises(DataError, match=r"a.npy: .npy file not found"):
        load_dataset({"npy": {"x": tmp_path / "a.npy", "y": tmp_path / "a.npy"}})


@pytest.fixture
def big_npy(tmp_path, monkeypatch):
    """A (4000, 32, 32, 1) uint8 image file (4 MB) that counts as large (threshold lowered).
    Sample ``i`` holds the value ``i % 250`` everywhere and has the label ``i % 10``."""
    x = np.lib.format.open_memmap(
        tmp_path / "x.npy", mode="w+", dtype=np.uint8, shape=(4000, 32, 32, 1)
    )
    x[:] = (np.arange(4000) % 250).astype(np.uint8)[:, None, None, None]
    x.flush()
    del x
    np.save(tmp_path / "y.npy", np.arange(4000) % 10)
    monkeypatch.setattr(array_formats, "MMAP_THRESHOLD_BYTES", 1_000_000)
    return tmp_path / "x.npy", tmp_path / "y.npy"


def test_large_npy_is_memory_mapped_and_batched_from_disk(big_npy):
    x_path, y_path = big_npy
    ds = load_dataset({"npy": {"x": str(x_path), "y": str(y_path)}})
    assert isinstance(ds.x, np.memmap) and ds.x.dtype == np.uint8
    assert ds.x.shape == (4000, 32, 32, 1) and ds.task == "multiclass"
    assert not ds.x.flags.writeable  # opened read-only
    total = 0
    tracemalloc.start()
    for xb, yb in DataLoader(ds.x, ds.y, batch_size=256, shuffle=True, seed=0):
        assert xb.shape[1:] == (32, 32, 1) and len(xb) == len(yb)
        assert ((xb[:, 0, 0, 0] % 10) == yb).all()  # features and labels stay aligned
        assert (xb == xb[:, :1, :1, :]).all()  # whole samples gathered
        total += len(xb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert total == 4000
    assert peak < 1_000_000, f"an epoch over a 4 MB memory-mapped file allocated {peak} bytes"


def test_mmap_can_be_forced_or_refused(big_npy):
    x_path, y_path = big_npy
    assert not isinstance(load_npy(x_path, y_path, mmap=False).x, np.memmap)
    with pytest.raises(DataError, match="mmap must be true, false or 'auto'"):
        load_npy(x_path, y_path, mmap="yes")


def test_statistics_of_a_memory_mapped_file_match_in_memory(big_npy, monkeypatch):
    from nablanet.data import dataset as dataset_module

    monkeypatch.setattr(dataset_module, "CHUNK_BYTES", 50_000)  # force many blocks
    from nablanet.data.preprocessing import scalers

    monkeypatch.setattr(scalers, "CHUNK_BYTES", 50_000)
    x = load_npy(*big_npy, mmap=True).x
    scaler = StandardScaler(per_feature=False).fit(x)
    in_memory = np.asarray(x, dtype=np.float64)
    assert float(scaler.mean) == pytest.approx(in_memory.mean(), rel=1e-6)
    assert float(scaler.scale) == pytest.approx(in_memory.std(), rel=1e-6)


def test_nan_in_memory_mapped_features_is_found(tmp_path, monkeypatch):
    from nablanet.data import dataset as dataset_module

    monkeypatch.setattr(dataset_module, "CHUNK_BYTES", 1000)
    x = np.zeros((500, 4), np.float32)
    x[321, 2] = np.nan
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.arange(500) % 2)
    with pytest.raises(DataError, match=r"x.npy: nan in features at index \(321, 2\)"):
        load_npy(tmp_path / "x.npy", tmp_path / "y.npy", mmap=True)
    ds = load_npy(tmp_path / "x.npy", tmp_path / "y.npy", mmap=True, check_finite=False)
    assert isinstance(ds.x, np.memmap)


# -- image folders -----------------------------------------------------------------------------
def save_png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def make_image_folder(root: Path, classes=("cat", "dog"), n=3, size=(5, 4), rgb=False) -> Path:
    rng = np.random.default_rng(0)
    for c in classes:
        for i in range(n):
            shape = (*size, 3) if rgb else size
            save_png(root / c / f"{i}.png", rng.integers(0, 256, shape, dtype=np.uint8))
    return root


def test_grayscale_image_folder(tmp_path):
    root = make_image_folder(tmp_path / "pets")
    (root / "cat" / "notes.txt").write_text("not an image")
    ds = load_dataset({"images": str(root)})
    assert ds.name == "pets" and ds.task == "binary" and ds.class_names == ["cat", "dog"]
    assert ds.x.shape == (6, 5, 4, 1) and ds.x.dtype == np.uint8
    assert ds.y.tolist() == [0, 0, 0, 1, 1, 1]
    first = np.asarray(Image.open(root / "cat" / "0.png"))
    np.testing.assert_array_equal(ds.x[0, :, :, 0], first)


def test_rgb_image_folder_and_resize(tmp_path):
    root = make_image_folder(tmp_path / "c", classes=("a", "b", "c"), rgb=True)
    ds = load_dataset({"images": root})
    assert ds.x.shape == (9, 5, 4, 3) and ds.task == "multiclass"
    small = load_dataset({"images": root, "size": [2, 3], "color": "grayscale"})
    assert small.x.shape == (9, 2, 3, 1)
    save_png(root / "a" / "gray.png", np.full((5, 4), 200, np.uint8))  # one grayscale image
    mixed = load_dataset({"images": root})
    assert mixed.x.shape == (10, 5, 4, 3)  # auto: RGB as soon as one image is in colour
    gray = mixed.x[mixed.y == 0][-1]
    assert (gray == 200).all()


def test_images_of_different_sizes_and_modes_are_resized_and_converted(tmp_path, caplog):
    """A folder of mixed sizes gets the most common one (said in a warning); grey, 16-bit grey,
    palette, transparent and colour images are read together without crashing."""
    root = make_image_folder(tmp_path / "mix", rgb=True)  # 6 RGB images 5x4
    save_png(root / "dog" / "big.png", np.zeros((9, 9), np.uint8))
    Image.fromarray(np.full((5, 4), 40000, np.uint16)).save(root / "cat" / "deep.png")
    Image.new("RGBA", (4, 5), (0, 0, 0, 0)).save(root / "cat" / "clear.png")
    Image.new("RGB", (8, 6), (250, 10, 10)).convert("P").save(root / "dog" / "palette.gif")
    with caplog.at_level("WARNING", logger="nablanet.data"):
        ds = load_dataset({"images": root})
    assert ds.x.shape == (10, 5, 4, 3)
    assert "resized 2 of 10 images to 4x5, the most common size" in caplog.text
    names = sorted(p.name for p in (root / "cat").iterdir())
    cat = dict(zip(names, ds.x[ds.y == 0], strict=True))
    assert (cat["clear.png"] == 255).all()  # transparent is white paper
    assert (cat["deep.png"] == round(40000 * 255 / 65535)).all()  # 16-bit grey, scaled
    grey = load_dataset({"images": root, "color": "grayscale", "size": [3, 3]})
    assert grey.x.shape == (10, 3, 3, 1)


def test_image_folder_with_train_and_test(tmp_path):
    make_image_folder(tmp_path / "d" / "train", classes=("x", "y", "z"))
    make_image_folder(tmp_path / "d" / "test", classes=("y", "z"), n=2)
    ds = load_dataset({"images": tmp_path / "d"})
    assert ds.class_names == ["x", "y", "z"]
    assert ds.x.shape == (9, 5, 4, 1) and ds.x_test.shape == (4, 5, 4, 1)
    assert ds.y_test.tolist() == [1, 1, 2, 2]


def test_image_folder_errors(tmp_path):
    root = make_image_folder(tmp_path / "m")
    save_png(root / "dog" / "big.png", np.zeros((9, 9), np.uint8))
    (root / "dog" / "broken.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(DataError, match=r"broken.png: cannot read the image"):
        load_dataset({"images": root, "size": [5, 4]})
    with pytest.raises(DataError, match=r"broken.png: cannot read the image"):
        load_dataset({"images": root})
    with pytest.raises(DataError, match=r"image folder not found"):
        load_dataset({"images": tmp_path / "absent"})
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"no class folders"):
        load_dataset({"images": tmp_path / "empty"})
    make_image_folder(tmp_path / "one", classes=("only",))
    with pytest.raises(DataError, match=r"found only one class folder"):
        load_dataset({"images": tmp_path / "one"})
    with pytest.raises(DataError, match=r"size must be \[height, width\]"):
        load_dataset({"images": root, "size": [0, 3]})
