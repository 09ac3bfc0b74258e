"""Example constructor arguments for every registered layer class.

``test_layers.py`` enumerates ``LAYER_REGISTRY`` and, for every class found in ``nablanet``, runs
the config round trip, the output-shape check, the state-dict round trip and the numerical
gradient check (in float64) on each case listed here. A new layer without an entry makes
``test_every_layer_has_cases`` fail: add one or more ``(kwargs, input_shape)`` cases for it.

``kwargs`` must be JSON-able (what ``get_config`` returns); ``input_shape`` excludes the batch
axis. Layers whose constructor takes ``dtype`` are built with ``dtype="float64"`` for the gradient
check; the others follow their input's dtype.
"""

from __future__ import annotations

# base classes that are not layers by themselves
ABSTRACT_LAYERS = {"Activation"}

L2_SPEC = {"class_name": "L2", "config": {"l2": 0.01}}
L1_SPEC = {"class_name": "L1", "config": {"l1": 0.02}}
L1L2_SPEC = {"class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.03}}

LAYER_CASES: dict[str, list[tuple[dict, tuple]]] = {
    "Dense": [
        ({"n_inputs": 4, "n_neurons": 3}, (4,)),
        ({"n_inputs": 3, "n_neurons": 5, "activation": "relu", "seed": 3}, (3,)),
        ({"n_inputs": 2, "n_neurons": 4, "activation": "sigmoid"}, (2,)),
        ({"n_inputs": 5, "n_neurons": 3, "activation": "softmax"}, (5,)),
        (
            {
                "n_inputs": 3,
                "n_neurons": 2,
                "activation": "tanh",
                "weight_initializer": "xavier_uniform",
                "bias_initializer": "random_normal",
                "weight_regularizer": L1L2_SPEC,
                "bias_regularizer": L1_SPEC,
            },
            (3,),
        ),
        (
            {
                "n_inputs": 4,
                "n_neurons": 3,
                "activation": {"name": "leaky_relu", "alpha": 0.2},
                "weight_regularizer": L2_SPEC,
                "dtype": "float64",
            },
            (4,),
        ),
    ],
    "Neuron": [
        ({"n_inputs": 3}, (3,)),
        ({"n_inputs": 4, "activation": "sigmoid", "weight_initializer": "he_uniform"}, (4,)),
        ({"n_inputs": 2, "activation": "tanh", "seed": 7}, (2,)),
    ],
    "Dropout": [({"rate": 0.3, "seed": 1}, (6,)), ({"rate": 0.0}, (3,)), ({"rate": 0.9}, (5,))],
    "Linear": [({}, (4,))],
    "ReLU": [({}, (4,))],
    "LeakyReLU": [({}, (3,)), ({"alpha": 0.3}, (5,))],
    "Sigmoid": [({}, (4,))],
    "Tanh": [({}, (4,))],
    "Softmax": [({}, (4,)), ({}, (1,))],
    "Conv2D": [
        ({"in_channels": 2, "out_channels": 3, "kernel_size": 3}, (5, 5, 2)),
        (
            {
                "in_channels": 1,
                "out_channels": 4,
                "kernel_size": 3,
                "padding": "same",
                "activation": "tanh",
                "seed": 2,
            },
            (6, 5, 1),
        ),
        (
            {
                "in_channels": 5,
                "out_channels": 2,
                "kernel_size": [3, 2],
                "stride": [2, 1],
                "padding": [1, 0],
                "use_bias": False,
                "weight_regularizer": L2_SPEC,
            },
            (7, 6, 5),
        ),
        (
            {
                "in_channels": 3,
                "out_channels": 2,
                "kernel_size": 2,
                "stride": 2,
                "padding": "same",
                "activation": "sigmoid",
                "bias_initializer": "random_normal",
                "bias_regularizer": L1_SPEC,
                "dtype": "float64",
            },
            (5, 5, 3),
        ),
    ],
    "MaxPool2D": [
        ({"pool_size": 2}, (4, 4, 3)),
        ({"pool_size": 3, "stride": 2}, (7, 6, 2)),
        ({"pool_size": [2, 1], "stride": [1, 1]}, (3, 4, 2)),
    ],
    "AvgPool2D": [
        ({"pool_size": 2}, (5, 4, 3)),
        ({"pool_size": [3, 2], "stride": [1, 2]}, (4, 5, 2)),
    ],
    "GlobalAveragePooling2D": [({}, (3, 4, 2))],
    "Flatten": [({}, (3, 2, 2)), ({}, (4,))],
    "RandomTranslation": [
        ({"max_shift": 2, "seed": 3}, (5, 6, 2)),
        ({"max_shift": 0}, (3, 3, 1)),
        ({"max_shift": 4, "seed": 1}, (3, 4, 1)),
    ],
    "RandomCrop": [
        ({"padding": 2, "seed": 3}, (5, 6, 2)),
        ({"padding": 2, "padding_mode": "reflect", "seed": 1}, (4, 5, 2)),
        ({"padding": 3, "padding_mode": "reflect", "seed": 2}, (3, 3, 1)),
        ({"padding": 0}, (3, 3, 1)),
    ],
    "RandomFlip": [
        ({"seed": 3}, (3, 4, 2)),
        ({"mode": "vertical", "seed": 1}, (4, 3, 1)),
        ({"mode": "horizontal_and_vertical", "seed": 2}, (3, 3, 2)),
    ],
    "Reshape": [({"target_shape": [2, 6]}, (3, 4)), ({"target_shape": [-1, 3, 1]}, (2, 3, 3))],
    "BatchNormalization": [
        ({"n_features": 3}, (3,)),
        ({"n_features": 2, "momentum": 0.5, "epsilon": 0.001}, (3, 3, 2)),
        ({"n_features": 4, "dtype": "float64"}, (2, 4)),
    ],
}
