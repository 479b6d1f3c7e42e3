from policies.checkpoint import load_checkpoint, save_checkpoint


def test_a_save_replaces_the_file_whole_and_clears_temporaries_a_killed_writer_left(tmp_path):
    path = tmp_path / "checkpoint.pt"
    (tmp_path / ".checkpoint.pt.999.tmp").write_bytes(b"half a checkpoint")
    save_checkpoint(path, {"step": 1})
    save_checkpoint(path, {"step": 2})
    assert load_checkpoint(path) == {"step": 2}
    assert not list(tmp_path.glob(".*.tmp"))
