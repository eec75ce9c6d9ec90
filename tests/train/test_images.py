"""A user's own images: class folders and images/ + masks/, decoded with Pillow, resized, augmented."""

import numpy as np
import pytest
import torch
from PIL import Image

import almanac as am
from almanac.train.images import Augmented, load_images, read_folder


def _classes(root, names=("cat", "dog"), n=6, size=(12, 10)):
    rng = np.random.default_rng(0)
    for c, name in enumerate(names):
        (root / name).mkdir(parents=True)
        for i in range(n):
            Image.fromarray((rng.random(size) * 60 + 150 * c).astype(np.uint8)).save(root / name / f"{i}.png")
    return root


def _segmentation(root, n=8):
    rng = np.random.default_rng(1)
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    for i in range(n):
        mask = np.zeros((16, 16), np.uint8)
        r = int(rng.integers(2, 9))
        mask[r:r + 5, r:r + 5] = 1 + i % 2
        Image.fromarray((mask * 90 + rng.random((16, 16)) * 40).astype(np.uint8)).save(root / "images" / f"{i}.png")
        Image.fromarray(mask).save(root / "masks" / f"{i}.png")
    return root


def test_class_folders_load_resized_and_standardised(tmp_path):
    data = load_images(_classes(tmp_path / "pets"), size=8)
    assert data.task == "binary" and data.classes == ("cat", "dog") and data.input_shape == (1, 8, 8)
    assert len(data.x_train) + len(data.x_val) == 12
    assert abs(float(data.x_train.mean())) < 1e-5
    pixels, names = read_folder(tmp_path / "pets", size=8)
    assert pixels.shape == (12, 1, 8, 8) and names[0] == "cat/0.png" and pixels.max() <= 255


def test_segmentation_folders_pair_images_and_masks(tmp_path):
    data = load_images(_segmentation(tmp_path / "seg"), size=16)
    assert data.task == "segmentation" and data.classes == ("0", "1", "2") and data.y_train.shape[1:] == (16, 16)
    assert set(torch.unique(data.y_train).tolist()) <= {0, 1, 2}


@pytest.mark.parametrize(("build", "message"), [
    (lambda p: _classes(p, names=("only",)), "at least two classes"),
    (lambda p: p, "1 class folder"),
    (lambda p: _classes(p, n=1), "at least 2 images per class"),
])
def test_folders_that_cannot_be_used_raise_one_clear_error(tmp_path, build, message):
    root = tmp_path / "d"
    root.mkdir()
    build(root)
    if message == "1 class folder":
        _classes(root, names=("only",))
    with pytest.raises(am.ConfigError, match=message):
        load_images(root, size=8)


def test_a_mask_missing_and_an_unreadable_image(tmp_path):
    root = _segmentation(tmp_path / "seg")
    (root / "masks" / "3.png").unlink()
    with pytest.raises(am.ConfigError, match="a mask in masks/ for every image"):
        load_images(root)
    pets = _classes(tmp_path / "pets")
    (pets / "cat" / "bad.png").write_bytes(b"not a png")
    with pytest.raises(am.ConfigError, match=r"bad\.png"):
        load_images(pets, size=8)


def test_augmentation_moves_masks_with_their_images():
    x = torch.arange(2 * 16, dtype=torch.float32).reshape(2, 1, 4, 4)
    y = x[:, 0].long()  # a "mask" equal to the image: it must stay equal after any flip or shift
    torch.manual_seed(0)
    seen = set()
    for _ in range(20):
        xi, yi, mi = Augmented(x, y, y)[1]
        assert torch.equal(xi[0].long(), yi) and torch.equal(yi, mi)
        seen.add(tuple(xi.flatten().tolist()))
    assert len(seen) > 3  # it does change the images
    label = torch.tensor([3, 4])
    assert Augmented(x, label)[1][1] == 4  # class indices are left alone


def test_train_and_predict_masks_from_folders(tmp_path, capsys):
    from almanac.cli import main

    root = _segmentation(tmp_path / "seg")
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--images", str(root), "--image-size", "16", "--hidden", "4,8", "--epochs", "1", "--out",
              str(tmp_path / "runs"), "--name", "s"])
    assert exit_info.value.code == 0
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(tmp_path / "runs" / "s"), "--images", str(root / "images"), "--out",
              str(tmp_path / "masks")])
    assert exit_info.value.code == 0
    masks = sorted((tmp_path / "masks").iterdir())
    assert len(masks) == 8 and np.asarray(Image.open(masks[0])).shape == (16, 16)
    assert set(np.unique(np.asarray(Image.open(masks[0])))) <= {0, 1, 2}
