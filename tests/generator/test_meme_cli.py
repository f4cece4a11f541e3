import json

from click.testing import CliRunner
from PIL import Image

from bot.cli.commands.train_meme import command, import_memefly


def test_help_texts_carry_an_example():
    for cmd in (command, import_memefly):
        assert cmd.help is not None
        assert any(line.strip().startswith("Example: memeloop") for line in cmd.help.splitlines())
        result = CliRunner().invoke(cmd, ["--help"])
        assert result.exit_code == 0 and "Example: memeloop" in result.output


def test_import_memefly_command_reports_counts(tmp_path):
    Image.new("RGB", (50, 40), "white").save(tmp_path / "doge.jpg")
    memes = [{"meme_name": "doge", "meme_url": "https://i.imgflip.com/doge.jpg",
              "meme_bounding_box": ["left: 0px; top: 0px; width: 50px; height: 10px;"],
              "meme_text": ["such meme", "very caption", ""]}]
    (tmp_path / "memes.json").write_text(json.dumps(memes))
    result = CliRunner().invoke(import_memefly, [str(tmp_path / "memes.json"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "imported 1 templates, 2 captions" in result.output
    assert "skipped 1 (empty caption: 1)" in result.output


def test_train_command_turns_data_errors_into_usage_errors(tmp_path):
    (tmp_path / "captions.jsonl").write_text("")
    result = CliRunner().invoke(command, ["--data", str(tmp_path), "--out", str(tmp_path / "b")])
    from bot.errors import UsageError

    # bad training data is bad input: the CLI exits 2 (issue 30 finding 10)
    assert isinstance(result.exception, UsageError) and "too little usable data" in str(result.exception)
