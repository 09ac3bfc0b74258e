# %% [markdown]
# # 3. The full pipeline on MNIST
#
# Notebooks 1 and 2 used the library directly: arrays in, a `Sequential` model, `fit`. A real
# project needs more around the model: loading and caching a dataset, a validation split and a
# test split, preprocessing fitted on the training data only, a configuration that says what was
# run, checkpoints, early stopping, metrics on the test set, plots, and a saved model that can
# predict on new raw inputs. That is `nablanet.pipeline`, the same code behind the `nablanet`
# command line and the web UI:
#
# ```
# config -> data (load, split, fit preprocessing) -> build model -> Trainer.fit
#        -> evaluate on the test split -> run directory (model, history, metrics, plots)
# ```
#
# The data set is MNIST (70 000 handwritten digits of 28x28 pixels) when a local copy is in the
# nablanet data cache; otherwise the notebook falls back to the 1 797 8x8 digits bundled with
# scikit-learn, so it always runs offline. Set `NABLANET_SMALL=1` for a quick run.

# %%
import json
import os
import sys

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display

import nablanet as nb
from nablanet import pipeline
from nablanet.data import list_datasets, load_dataset

SMALL = os.environ.get("NABLANET_SMALL", "0") == "1"
nb.set_seed(0)
print(f"small run: {SMALL}")

# %% [markdown]
# ## 3.1 The data
#
# `list_datasets()` tells which built-in data sets exist and whether they are available offline
# (MNIST is downloaded into `~/.cache/nablanet/mnist`, or `$NABLANET_DATA`, on first use: run
# `nablanet train --config configs/mnist.yaml` once, or point `NABLANET_DATA` at a folder holding
# the four IDX files).

# %%
available = {info.name: info for info in list_datasets()}
for info in available.values():
    print(
        f"{info.name:14s} {info.task:11s} offline: {info.available_offline!s:5s}  {info.location}"
    )

DATASET = "mnist" if available["mnist"].available_offline else "digits"
if DATASET == "digits":
    print("\nMNIST is not in the cache: using scikit-learn's 8x8 digits instead.")

# %% [markdown]
# A look at the raw data: images are stored as `(n, height, width, channels)` ("channels last")
# with their raw pixel values (0..255 for MNIST, 0..16 for the small digits); the labels are
# class indices.

# %%
ds = load_dataset(DATASET)
print(ds.name, ds.x.shape, ds.x.dtype, "labels", ds.y.shape, ds.y.dtype, "range", ds.value_range)
if ds.x_test is not None:
    print("own test split:", ds.x_test.shape)

fig, axes = plt.subplots(2, 10, figsize=(12, 2.8), layout="constrained")
for digit in range(10):
    for row, i in enumerate(np.flatnonzero(ds.y == digit)[:2]):
        axes[row, digit].imshow(ds.x[i, :, :, 0], cmap="gray_r")
        axes[row, digit].set_title(ds.class_names[digit] if row == 0 else "", fontsize=10)
        axes[row, digit].axis("off")
fig.suptitle(f"{ds.name}: two examples per class")
plt.show()

# %% [markdown]
# ## 3.2 The configuration
#
# A run is described by one configuration (usually a YAML file, see `configs/mnist.yaml` and
# [docs/configuration.md](../docs/configuration.md) for every key). Here we write it as a Python
# dict. `pipeline.config_from_dict` validates it strictly: an unknown key or a wrong type is an
# error that names its path.
#
# The model is a multi-layer perceptron: `flatten: true` turns each image into a vector, `scale:
# unit` divides the pixels by their maximum, and the last layer's `units: auto` takes the number
# of classes from the data.

# %%
epochs = 3 if SMALL else (10 if DATASET == "mnist" else 40)
raw = {
    "name": f"{DATASET}_mlp",
    "seed": 42,
    "data": {
        "dataset": DATASET,
        "validation_split": 0.1,
        "test_split": 0.2,  # used only when the data set has no test split of its own
        "preprocessing": {"flatten": True, "scale": "unit"},
    },
    "model": {
        "layers": [
            {"type": "dense", "units": 256, "activation": "relu", "initializer": "he_normal"},
            {"type": "dropout", "rate": 0.2},
            {"type": "dense", "units": 128, "activation": "relu", "initializer": "he_normal"},
            {"type": "dropout", "rate": 0.2},
            {"type": "dense", "units": "auto", "activation": "softmax"},
        ]
    },
    "training": {
        "loss": "categorical_crossentropy",
        "optimizer": {"name": "adam", "learning_rate": 1e-3},
        "scheduler": {"name": "cosine", "warmup_epochs": 1},
        "epochs": epochs,
        "batch_size": 128,
        "early_stopping": {"monitor": "val_loss", "patience": 5},
    },
    "output_dir": "runs",
}
if SMALL and DATASET == "mnist":
    raw["data"]["max_samples"] = 6000  # a random subset of the training images
config = pipeline.config_from_dict(raw)
print(pipeline.dump_config(config))

# %% [markdown]
# The validated config has every default filled in (printed above, as it will be saved in the
# run directory). Validation errors are one line each, naming the key:

# %%
bad = json.loads(json.dumps(raw))
bad["model"]["layers"][0]["units"] = -3
bad["training"]["optimizer"]["learning_rat"] = 0.1
try:
    pipeline.config_from_dict(bad)
except pipeline.ConfigError as e:
    print(e)

# %% [markdown]
# ## 3.3 Training
#
# `pipeline.train(config)` does everything: loads and splits the data, fits the preprocessing on
# the training split, builds and compiles the model, trains it with early stopping and a
# checkpoint every epoch, evaluates it on the test split, writes the run directory and draws the
# plots. `configure_logging` shows its log here (one line per epoch), as the command line does;
# the same lines go to the run's `train.log`.

# %%
pipeline.configure_logging("INFO", stream=sys.stdout)
result = pipeline.train(config, progress=False)
print("\nstatus:", result.status, "| run directory:", result.run_dir)
print(result.model.summary(print_fn=None))

# %% [markdown]
# ## 3.4 What a run leaves behind
#
# Everything needed to understand, reproduce, resume or use the run is in its directory:
#
# | file | content |
# | --- | --- |
# | `config.yaml` | the resolved configuration (every default filled in) |
# | `train.log` | the log |
# | `history.json` | loss, metrics and learning rate per epoch |
# | `metrics.json` | train/validation/test metrics, the status |
# | `checkpoints/` | `last.npz` (resume) and `best.npz` |
# | `model.npz` | the final model with its preprocessing (no pickle: safe to share) |
# | `plots/` | learning curves, confusion matrix, misclassified images... |

# %%
for path in sorted(result.run_dir.rglob("*")):
    if path.is_file():
        print(f"{path.relative_to(result.run_dir)!s:32s} {path.stat().st_size:>9,d} bytes")

# %% [markdown]
# The learning curves and the test-set plots, as the pipeline drew them:

# %%
plots = {p.name: p for p in result.plots}
print(sorted(plots))
for name in ("loss.png", "accuracy.png", "confusion_matrix.png", "misclassified.png"):
    if name in plots:
        display(Image(filename=str(plots[name]), width=520))

# %% [markdown]
# ## 3.5 Metrics
#
# `metrics.json` (also `result.metrics`) holds the numbers for each split: accuracy, precision,
# recall and F1 (per class and averaged), ROC AUC, the confusion matrix.

# %%
test = result.metrics["test"]
for key in ("accuracy", "precision_macro", "recall_macro", "f1_macro", "roc_auc"):
    print(f"test {key:16s} {test[key]:.4f}")
print("\nper class (precision / recall / F1):")
for name, row in test["per_class"].items():
    print(f"  {name}: {row['precision']:.3f} / {row['recall']:.3f} / {row['f1']:.3f}")

# %% [markdown]
# ## 3.6 Using the trained model
#
# `model.npz` holds the weights, the architecture and the fitted preprocessing, so it predicts on
# **raw** inputs: images with their original pixel values. Here, the first test images of the
# data set:

# %%
trained = pipeline.load_trained_model(result.run_dir / "model.npz")
x_new = ds.x_test[:8] if ds.x_test is not None else ds.x[-8:]
predictions = pipeline.predict(trained, x_new)
print(predictions.to_csv().splitlines()[0][:60], "...")

fig, axes = plt.subplots(1, 8, figsize=(12, 2), layout="constrained")
for ax, image, label, p in zip(axes, x_new, predictions.labels, predictions.probabilities):
    ax.imshow(image[:, :, 0], cmap="gray_r")
    ax.set_title(f"{label} ({p.max():.0%})")
    ax.axis("off")
fig.suptitle("pipeline.predict on raw images: predicted class (probability)")
plt.show()

# %% [markdown]
# ## 3.7 A convolutional network
#
# An MLP sees an image as a bag of unrelated pixels. A convolutional network slides small
# learned filters over it, so a stroke is recognized wherever it is
# ([docs/backpropagation.md](../docs/backpropagation.md#convolution-conv2d) has the maths). In a
# config, only `model.layers` changes, and the images are no longer flattened (the first layer
# is `conv2d`, so `flatten` defaults to false). `configs/mnist_cnn.yaml` is the full-size version.

# %%
cnn_layers = [
    {"type": "conv2d", "filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "maxpool2d", "pool_size": 2},
    {"type": "batchnorm"},
    {"type": "conv2d", "filters": 32, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "maxpool2d", "pool_size": 2},
    {"type": "flatten"},
    {"type": "dropout", "rate": 0.3},
    {"type": "dense", "units": "auto", "activation": "softmax"},
]
overrides = {
    "name": f"{DATASET}_cnn",
    "model.layers": cnn_layers,
    "data.preprocessing.flatten": False,
    "training.epochs": 3 if SMALL else (4 if DATASET == "mnist" else 15),
    "training.batch_size": 64,
    "training.optimizer.learning_rate": 0.003,
}
if DATASET == "mnist":  # convolutions in NumPy are slow: a subset keeps this cell to a minute
    overrides["data.max_samples"] = 3000 if SMALL else 20000
cnn_config = pipeline.load_config(base=config.to_dict(), overrides=overrides)
pipeline.configure_logging("WARNING", stream=sys.stdout)  # only the summary this time
cnn_result = pipeline.train(cnn_config, progress=False)
cnn_result.model.summary(input_shape=ds.x.shape[1:])
for name, run in (("MLP", result), ("CNN", cnn_result)):
    params = run.model.count_params()
    print(f"{name}: {params:>7,d} parameters, test accuracy {run.metrics['test']['accuracy']:.2%}")

# %% [markdown]
# Compare the two models' validation curves (the CNN may have been trained on a subset, see above):

# %%
fig, ax = plt.subplots(figsize=(7, 3.8), layout="constrained")
for name, run in (("MLP", result), ("CNN", cnn_result)):
    values = run.history["val_accuracy"]
    ax.plot(range(1, len(values) + 1), values, "o-", label=name)
ax.set(title="Validation accuracy", xlabel="epoch", ylabel="accuracy")
ax.grid(alpha=0.3)
ax.legend()
plt.show()

# %% [markdown]
# The same is available from the command line:
#
# ```
# nablanet train --config configs/mnist.yaml --set training.epochs=5
# nablanet evaluate --model runs/<run>/model.npz
# nablanet predict --model runs/<run>/model.npz --input digit.png
# nablanet train --resume runs/<run>      # continue an interrupted run exactly
# ```
#
# See [docs/cli.md](../docs/cli.md).
#
# ## Summary and exercises
#
# * A configuration says everything about a run, is validated strictly, and is saved with it.
# * `pipeline.train` = data + preprocessing + model + training + evaluation + artifacts.
# * The model file carries its preprocessing: it predicts on raw inputs, and loading it never
#   runs code.
# * Changing the architecture (MLP to CNN) is a change of `model.layers` only.
#
# Exercises:
#
# 1. Replace `adam` by `{"name": "sgd", "learning_rate": 0.1, "momentum": 0.9}` and compare the
#    test accuracy (notebook 2 explains the difference).
# 2. Remove the dropout layers. Does the gap between training and validation loss grow?
# 3. Interrupt a long training (stop the cell) and continue it with
#    `pipeline.resume(run_dir)`: the resumed run ends exactly where an uninterrupted one would.
