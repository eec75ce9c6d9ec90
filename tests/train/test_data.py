import numpy as np
import pytest
import torch

from almanac.errors import AlmanacError, ConfigError, TargetError
from almanac.train.data import DATASETS, infer_task, load, load_csv


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_dataset_loads_split_and_standardised(name):
    d = load(name, seed=3)
    task = DATASETS[name][0]
    assert d.task == task
    n_train, n_val = len(d.x_train), len(d.x_val)
    assert len(d.y_train) == n_train and len(d.y_val) == n_val and 0.15 < n_val / (n_train + n_val) < 0.25
    assert d.x_train.dtype == torch.float32 and torch.isfinite(d.x_train).all()
    dims = (0,) if d.x_train.ndim == 2 else None
    mean = d.x_train.mean(dim=dims) if dims else d.x_train.mean()
    assert torch.allclose(mean, torch.zeros_like(mean), atol=1e-4)  # standardised on the training split
    if task in ("binary", "multiclass"):
        assert d.y_train.dtype == torch.int64 and int(d.y_train.max()) < max(d.num_outputs, 2)
        assert len(d.classes) == max(d.num_outputs, 2)
    if task == "multilabel":
        assert d.y_train.shape[1] == d.num_outputs and set(d.y_train.unique().tolist()) <= {0.0, 1.0}
    if task == "segmentation":
        assert d.x_train.ndim == 4 and d.y_train.shape == d.x_train.shape[:1] + d.x_train.shape[2:]


def test_generated_datasets_have_the_promised_character():
    imbalanced = load("imbalanced")
    assert 0.01 < float(imbalanced.y_train.float().mean()) < 0.06
    outliers = load("outliers")
    z = lambda y: ((y - y.median()).abs() / (y - y.median()).abs().median())  # noqa: E731
    assert (z(outliers.y_train) > 10).float().mean() > 0.04  # gross outliers in training targets
    assert (z(outliers.y_val) > 10).float().mean() < 0.01  # clean validation


def test_split_is_seeded_and_stratified():
    a, b, c = load("iris", seed=1), load("iris", seed=1), load("iris", seed=2)
    assert torch.equal(a.x_val, b.x_val) and not torch.equal(a.x_val, c.x_val)
    assert torch.bincount(a.y_val).tolist() == [10, 10, 10]


def test_infer_task():
    assert infer_task(np.array([0, 1, 1, 0])) == "binary"
    assert infer_task(np.array(["cat", "dog", "cat"])) == "binary"
    assert infer_task(np.array(["a", "b", "c"])) == "multiclass"
    assert infer_task(np.array([1, 2, 3, 4, 2])) == "multiclass"
    assert infer_task(np.arange(100)) == "regression"
    assert infer_task(np.array([0.1, 2.5, 3.0])) == "regression"
    assert infer_task(np.zeros((4, 3))) == "multilabel"


def _write(path, header, rows):
    path.write_text(",".join(header) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return path


def test_csv_task_inference_and_standardisation_on_training_split(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 3.0, (200, 2))
    price = 2 * x[:, 0] + rng.normal(size=200)
    kind = np.where(x[:, 1] > 5, "big", "small")
    path = _write(tmp_path / "data.csv", ["a", "b", "price", "kind"],
                  [[x[i, 0], x[i, 1], price[i], kind[i]] for i in range(200)])
    mixed = load_csv(path, "price")  # the text column is one-hot encoded, with an unknown bucket
    assert mixed.features == ("a", "b", "kind=big", "kind=small", "kind=unknown")
    assert mixed.x_train[:, 2:].sum(1).eq(1).all() and mixed.x_train[:, 4].eq(0).all()
    path2 = _write(tmp_path / "num.csv", ["a", "b", "price"], [[x[i, 0], x[i, 1], price[i]] for i in range(200)])
    d = load_csv(path2, "price")
    assert d.task == "regression" and d.features == ("a", "b") and "inferred" in d.note
    assert torch.allclose(d.x_train.mean(0), torch.zeros(2), atol=1e-5)
    assert torch.allclose(d.x_train.std(0, unbiased=False), torch.ones(2), atol=1e-4)
    assert not torch.allclose(d.x_val.mean(0), torch.zeros(2), atol=1e-5)  # val uses the training statistics
    path3 = _write(tmp_path / "cls.csv", ["a", "b", "kind"], [[x[i, 0], x[i, 1], kind[i]] for i in range(200)])
    c = load_csv(path3, "kind")
    assert c.task == "binary" and c.classes == ("big", "small")
    assert load_csv(path2, "price", task="regression").note.endswith("regression given")


TEN = "".join(f"{i},{i % 3},{i % 2}\n" for i in range(12))


@pytest.mark.parametrize(("content", "target", "message"), [
    (None, "y", "to name an existing CSV file"),
    ("a,b,y\n" + TEN, "z", "to name columns of"),
    ("a,a,y\n" + TEN, "y", "distinct column names, got a more than once"),
    ("a,b,y\n1,2,0\n3,4,1\n", "y", "at least 10 data rows"),
    ("a,b,y\n" + TEN + "5,6,\n", "y", "to have a value on every row"),
    ("a,b,y\n" + TEN.replace("0,0,0", "1e308,0,0").replace("1,1,1", "-1e308,1,1"), "y", "rescale"),
    ("", "y", "with a header row"),
    ("y\n" + "0\n1\n" * 6, "y", "at least one feature column"),
])
def test_csv_errors_name_the_problem(tmp_path, content, target, message):
    path = tmp_path / "d.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(AlmanacError, match=message):
        load_csv(path, target)


def test_csv_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("a,b,y\n1,2,caf\xe9\n".encode("latin-1") * 3)
    with pytest.raises(ConfigError, match="UTF-8"):
        load_csv(path, "y")


def test_csv_bad_target_values(tmp_path):
    path = _write(tmp_path / "d.csv", ["a", "y"], [[i, i % 3] for i in range(12)])
    with pytest.raises(TargetError, match="two distinct values"):
        load_csv(path, "y", task="binary")
    with pytest.raises(ConfigError, match="--dataset"):
        load("mnist")


def test_parquet_and_a_class_missing_from_the_validation_split(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"a": np.arange(30.0), "colour": ["red", "blue", None] * 10, "y": ["no"] * 28 + ["yes"] * 2})
    frame.to_parquet(tmp_path / "d.parquet")
    with pytest.raises(ConfigError, match="every class in the validation split"):
        load_csv(tmp_path / "d.parquet", "y")  # 2 rare rows: the stratified split leaves none for validation
    frame["y"] = ["no", "yes"] * 15
    frame.to_parquet(tmp_path / "d.parquet")
    d = load_csv(tmp_path / "d.parquet", "y")
    assert d.classes == ("no", "yes") and d.features == ("a", "colour=blue", "colour=red", "colour=unknown")


def test_a_short_or_long_csv_row_is_a_csv_error_not_missing_cells(tmp_path):
    from almanac.errors import ConfigError
    from almanac.train.data import read_table

    for body, line in (("1,2,3\n4,5\n6,7,8\n", 3), ("1,2,3\n4,5,6,7\n", 3)):
        path = tmp_path / "t.csv"
        path.write_text("a,b,y\n" + body)
        with pytest.raises(ConfigError, match=f"(row|line) {line}"):
            read_table(path)
