"""Prepares the UCI handwritten digits (scikit-learn's load_digits: 1,797 images of 8 x 8) for the
digit super-resolution example (examples/digits/) and its test (tests/digits_quick.rs).

Usage: python scripts/prepare_digits.py OUT_DIR   (scripts/prepare_digits.sh finds the python)

scikit-learn ships the data inside its wheel, so nothing is downloaded but the wheel itself, which
this script installs into the running (cached torch) environment on first use.

Split (one fixed permutation, seed 0, into disjoint parts, as the paper partitions CelebA):

  part        rows  use
  source       400  sources for dual training (Algorithm 1), as low-resolution images
  target       400  targets for dual training and the target score
  test         300  held-out sources: low-resolution inputs, their true 8 x 8 images, labels
  heldout      300  held-out target digits: the reference of the Frechet distance
  classifier   397  trains the logistic regression used for class agreement

Pixels: the data's 0..16 intensities divided by 16, so every pixel is in [0, 1] (white = 0).
A low-resolution image is the mean of each 2 x 2 block (8 x 8 -> 4 x 4), repeated back to 8 x 8
(nearest-neighbour upsampling), as the paper resizes its sources to the target size.

Output format (read by scones' examples without extra crates): OUT_DIR/manifest.txt, one line
per matrix, "name rows cols file", '#' starting a comment; each file is the matrix as rows x
cols little-endian float32, row-major, no header. Labels are stored as float32 too (0.0 .. 9.0).

  matrices: source_low, target_high, test_low, test_high, test_label, heldout_high,
            classifier_coef (10 x 64), classifier_intercept (1 x 10),
            all_images (1797 x 64) and all_labels (1797 x 1): the whole data set in its
            original order, for examples that split it their own way (examples/daspot_digits.rs)

The classifier is sklearn's LogisticRegression (lbfgs, C = 1, max_iter 2000) on the classifier
part; its predicted class of an image z is argmax(coef z + intercept). Its accuracy on the test
part's true images is written as a comment line of the manifest.
"""
import importlib
import os
import subprocess
import sys

import numpy as np

SEED = 0
SIZES = [("source", 400), ("target", 400), ("test", 300), ("heldout", 300), ("classifier", 397)]


def ensure_sklearn():
    try:
        importlib.import_module("sklearn")
    except ImportError:
        # A clean machine has only torch and numpy in the cached environment.
        print("prepare_digits: installing scikit-learn into", sys.prefix, file=sys.stderr)
        cmd = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "scikit-learn"]
        subprocess.check_call(cmd, stdout=sys.stderr)
        importlib.invalidate_caches()


def low_resolution(x):
    """[n, 64] -> [n, 64]: 2 x 2 block means, each repeated over its block."""
    img = x.reshape(-1, 4, 2, 4, 2)
    means = img.mean(axis=(2, 4))
    return np.repeat(np.repeat(means, 2, axis=1), 2, axis=2).reshape(-1, 64)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: prepare_digits.py OUT_DIR")
    out = sys.argv[1]
    ensure_sklearn()
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    data = load_digits()
    x = data.data.astype(np.float64) / 16.0
    labels = data.target.astype(np.int64)
    assert x.shape == (1797, 64) and sum(n for _, n in SIZES) == len(x)
    perm = np.random.RandomState(SEED).permutation(len(x))
    parts, start = {}, 0
    for name, n in SIZES:
        parts[name] = perm[start : start + n]
        start += n

    clf = LogisticRegression(C=1.0, max_iter=2000)
    clf.fit(x[parts["classifier"]], labels[parts["classifier"]])
    test = parts["test"]
    accuracy = float((clf.predict(x[test]) == labels[test]).mean())

    matrices = {
        "source_low": low_resolution(x[parts["source"]]),
        "target_high": x[parts["target"]],
        "test_low": low_resolution(x[test]),
        "test_high": x[test],
        "test_label": labels[test].reshape(-1, 1).astype(np.float64),
        "heldout_high": x[parts["heldout"]],
        "classifier_coef": clf.coef_,
        "classifier_intercept": clf.intercept_.reshape(1, -1),
        "all_images": x,
        "all_labels": labels.reshape(-1, 1).astype(np.float64),
    }
    os.makedirs(out, exist_ok=True)
    lines = [
        "# UCI digits from sklearn.datasets.load_digits, prepared by scripts/prepare_digits.py",
        f"# seed {SEED}; pixels in [0, 1]; float32 little-endian, row-major",
        f"# classifier accuracy on test_high: {accuracy:.4f}",
    ]
    for name, m in matrices.items():
        m = np.ascontiguousarray(m, dtype="<f4")
        m.tofile(os.path.join(out, name + ".f32"))
        lines.append(f"{name} {m.shape[0]} {m.shape[1]} {name}.f32")
    # The manifest last, through a rename: its presence means the data is complete.
    tmp = os.path.join(out, "manifest.txt.tmp")
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, os.path.join(out, "manifest.txt"))
    print(f"prepare_digits: wrote {out} (classifier accuracy {accuracy:.4f} on the test images)", file=sys.stderr)


if __name__ == "__main__":
    main()
