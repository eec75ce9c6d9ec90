import base64
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from almanac.train.files import atomic_write_json, atomic_write_text
from almanac.train.report import Figure, Section, Table, save_figure, write_html


def test_save_figure_writes_png_atomically_and_html_embeds_it(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [2, 1, 3])
    png = save_figure(fig, tmp_path / "curve.png")
    assert (tmp_path / "curve.png").read_bytes() == png
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left
    page = write_html(tmp_path / "r.html", "Title <x>", [
        Section("One", text="para 1\n\npara <2>", tables=[Table(["a", "b"], [[1, 0.123456], ["x", float("nan")]])],
                figures=[Figure(png, "curve"), tmp_path / "curve.png"]),
    ], subtitle="sub").read_text()
    assert "Title &lt;x&gt;" in page and "para &lt;2&gt;" in page and "<td>0.1235</td>" in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 2 and base64.b64decode(images[0]) == png
    assert "src=\"http" not in page and "<link" not in page  # self-contained


def test_atomic_write_replaces_whole_file(tmp_path):
    path = tmp_path / "sub" / "f.txt"
    atomic_write_text(path, "old")
    atomic_write_text(path, "new")
    assert path.read_text() == "new"
    atomic_write_json(tmp_path / "m.json", {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "sub"]


def test_remove_temporaries_left_by_a_killed_write(tmp_path):
    from almanac.train.files import remove_temporaries

    (tmp_path / ".checkpoint.pt.abc123.tmp").write_bytes(b"half")
    (tmp_path / "checkpoint.pt").write_bytes(b"whole")
    assert [p.name for p in remove_temporaries(tmp_path)] == [".checkpoint.pt.abc123.tmp"]
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]
