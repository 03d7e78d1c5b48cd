"""The one bounded reader of small files: policies, catalogues, keys, JSON documents."""

from __future__ import annotations

import os
import threading

import pytest

from publisher.core.files import SmallFileError, read_small_file


def kind(path, max_bytes=10, **options) -> str:
    with pytest.raises(SmallFileError) as caught:
        read_small_file(path, max_bytes, **options)
    return caught.value.kind


def test_reads_up_to_the_bound_and_refuses_one_byte_more(tmp_path):
    (tmp_path / "ten").write_bytes(b"x" * 10)
    (tmp_path / "eleven").write_bytes(b"x" * 11)
    assert read_small_file(tmp_path / "ten", 10) == b"x" * 10
    assert kind(tmp_path / "eleven") == "size"


def test_links_folders_and_special_files_by_choice(tmp_path):
    (tmp_path / "file").write_bytes(b"ok")
    (tmp_path / "link").symlink_to(tmp_path / "file")
    assert read_small_file(tmp_path / "link", 10) == b"ok"  # followed by default
    assert kind(tmp_path / "link", follow_links=False) == "link"
    assert kind(tmp_path) == "folder"
    assert kind("/dev/zero", special=False) == "special"
    assert kind("/dev/zero") == "size"  # an endless stream stops at the bound
    with pytest.raises(FileNotFoundError):
        read_small_file(tmp_path / "absent", 10)


def test_a_fifo_is_refused_without_waiting_or_read_when_allowed(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert kind(fifo, special=False) == "special"  # returns at once: no writer needed

    def write():
        with open(fifo, "wb") as fh:
            fh.write(b"secret")

    writer = threading.Thread(target=write)
    writer.start()
    assert read_small_file(fifo, 10) == b"secret"  # --key-file <(pass key)
    writer.join()
