"""One preprocessing path for pictures: the same picture gets the same answer from
``nablanet predict``, the UI's Predict tab and the Python API, for a digit model (reframed like
MNIST) and for a colour model (converted and resized); no browser needed."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image, ImageDraw

from nablanet import pipeline
from nablanet.cli import main
from nablanet.ui import tab_predict
from nablanet.ui.common import AppContext

COLOURS = {"blue": (30, 40, 200), "green": (40, 190, 50), "red": (210, 40, 30)}


def colour_folder(root, seed: int = 0):
    """Class folders of small RGB pictures of different sizes, with one grey and one RGBA
    picture among them (mixed modes), under ``train/`` and ``test/``."""
    rng = np.random.default_rng(seed)
    for split, n in (("train", 14), ("test", 4)):
        for name, rgb in COLOURS.items():
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(n):
                h, w = rng.integers(14, 30, size=2)
                img = np.clip(rng.normal(rgb, 35, size=(h, w, 3)), 0, 255).astype(np.uint8)
                pic = Image.fromarray(img)
                if i == 0:
                    pic = pic.convert("RGBA")
                pic.save(folder / f"{i}.png")
            Image.fromarray(np.full((20, 20), 128, np.uint8)).save(folder / "grey.png")
    return root


@pytest.fixture(scope="module")
def colour_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("colour")
    folder = colour_folder(tmp / "pictures")
    config = {
        "name": "colours",
        "seed": 0,
        "data": {
            "dataset": {"images": str(folder), "size": [12, 12]},
            "validation_split": 0.2,
            "preprocessing": {"scale": "per_channel"},
        },
        "model": {
            "layers": [
                {"type": "conv2d", "filters": 4, "kernel_size": 3, "activation": "relu"},
                {"type": "globalavgpool2d"},
                {"type": "dense", "units": "auto", "activation": "softmax"},
            ]
        },
        "training": {
            "loss": "categorical_crossentropy",
            "optimizer": {"name": "adam", "learning_rate": 0.05},
            "epochs": 12,
            "batch_size": 8,
        },
        "evaluation": {"plots": False},
        "output_dir": str(tmp / "runs"),
    }
    result = pipeline.train(pipeline.config_from_dict(config), progress=False)
    return result.run_dir


def seven_on_white(path):
    img = Image.new("RGB", (300, 260), (250, 250, 245))
    ImageDraw.Draw(img).line([(80, 60), (220, 60), (130, 230)], fill=(20, 20, 30), width=18)
    img.save(path)
    return path


def reddish_photo(path):
    rng = np.random.default_rng(5)
    img = np.clip(rng.normal((200, 60, 40), 30, size=(37, 50, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(img).save(path)
    return path


def cli_probabilities(capsys, model, picture) -> np.ndarray:
    code = main(["predict", "--model", str(model), "--input", str(picture)])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = list(csv.reader(out.splitlines()))
    header, row = rows[0], rows[1]
    return np.array([float(v) for k, v in zip(header, row) if k.startswith("p_")])


@pytest.mark.parametrize("kind", ["digits", "colour"])
def test_cli_ui_and_api_give_the_same_answer_for_the_same_picture(
    kind, runs, colour_run, tmp_path, capsys
):
    run = runs["digits"] if kind == "digits" else colour_run
    model = run / "model.npz"
    picture = (seven_on_white if kind == "digits" else reddish_photo)(tmp_path / "picture.png")
    trained = pipeline.load_trained_model(model)
    assert trained.metadata["image_style"] == ("digits" if kind == "digits" else "photo")

    from_cli = cli_probabilities(capsys, model, picture)
    from_api = pipeline.predict(model, Image.open(picture)).probabilities[0]
    ctx = AppContext(runs_dir=runs["dir"], configs_dir=runs["dir"])
    # what gr.Image(type="numpy", image_mode="RGBA") hands over, and the file itself
    upload = np.asarray(Image.open(picture).convert("RGBA"))
    views = [tab_predict.predict_drawing(ctx, str(run), v) for v in (upload, str(picture))]
    for view in views:
        from_ui = np.array([view["label"][c] for c in trained.class_names])
        np.testing.assert_allclose(from_ui, from_api, atol=1e-6)
    np.testing.assert_allclose(from_cli, from_api, atol=2e-6)  # the CSV has 6 decimals
    # and the samples themselves are identical
    a = pipeline.image_to_sample(picture, trained).x
    b = pipeline.image_to_sample(upload, trained).x
    np.testing.assert_array_equal(a, b)
    if kind == "colour":
        assert trained.class_names[int(from_api.argmax())] == "red"
        assert "resized 50x37 -&gt; 12x12" in views[0]["status"]  # HTML-escaped
        assert views[0]["preview"].ndim == 3 and views[0]["preview"].shape[2] == 3
    else:
        assert trained.class_names[int(from_api.argmax())] == "7"
