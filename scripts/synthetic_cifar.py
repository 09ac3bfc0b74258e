"""Write a synthetic CIFAR-10 in the exact binary layout, for timing and trying the pipeline
without the real data (it is *not* CIFAR: each class is a colour tint and a bright square under
noise, so a CNN learns it quickly; its accuracy says nothing about CIFAR-10's).

Usage::

    python scripts/synthetic_cifar.py DIR [--records N] [--archive]
    NABLANET_DATA=DIR nablanet train --config configs/cifar10_cnn.yaml --set training.epochs=1

writes ``DIR/cifar10/cifar-10-batches-bin/`` (six files of ``N`` records, 10 000 by default:
the real files' exact sizes, 30 730 000 bytes each), or ``DIR/cifar10/cifar-10-binary.tar.gz``
with ``--archive`` (its MD5 is not the publisher's, so only ``--records`` other than 10 000
with a replaced source reads it; the folder is what timing needs).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from nablanet.data.cifar import CIFAR10, write_synthetic_cifar


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="the data directory ($NABLANET_DATA)")
    parser.add_argument("--records", type=int, default=CIFAR10.records_per_file)
    parser.add_argument("--archive", action="store_true", help="write the .tar.gz instead")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    source = dataclasses.replace(CIFAR10, records_per_file=args.records)
    path = write_synthetic_cifar(args.dir / "cifar10", source, seed=args.seed, archive=args.archive)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
