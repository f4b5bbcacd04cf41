"""`edgeai generate`, `edgeai chat` and `edgeai info` on the real SmolLM2 GGUF."""
import io

from edgeai.cli import main


def test_generate_raw_greedy(smollm_path, capsys):
    prompt = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
    rc = main(["generate", "--raw", "-m", str(smollm_path), "-n", "12", "--temperature", "0",
               "--repetition-penalty", "1.0", prompt])
    out = capsys.readouterr()
    assert rc == 0
    assert out.out.startswith("The capital of France is Paris.")
    assert "tok/s" in out.err


def test_generate_with_system_prompt_matches_chat_api(smollm_path, smollm, capsys):
    system = "You are a concise assistant. Answer in one sentence."
    rc = main(["generate", "-m", str(smollm_path), "-n", "16", "--temperature", "0", "--repetition-penalty", "1.0",
               "-s", system, "What is the capital of France?"])
    out = capsys.readouterr()
    smollm.reset()
    want = smollm.chat([{"role": "system", "content": system}, {"role": "user", "content": "What is the capital of France?"}],
                       16, temperature=0, repetition_penalty=1.0)
    assert rc == 0 and out.out.rstrip("\n") == want and "Paris" in want


def test_chat_streams_and_reports_speed(smollm_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("Hi!\n\n"))
    rc = main(["chat", "-m", str(smollm_path), "-n", "8", "--seed", "1"])
    out = capsys.readouterr()
    assert rc == 0 and "tok/s" in out.err and len(out.out.strip()) > 2


def test_info_describes_a_model(smollm_path, capsys):
    assert main(["info", "-m", str(smollm_path)]) == 0
    out = capsys.readouterr().out
    assert "arch:" in out and "model arch:" in out and "llama" in out


def test_missing_model_is_one_clear_line(tmp_path, capsys):
    rc = main(["generate", "-m", str(tmp_path / "missing.gguf"), "hi"])
    assert rc == 2 and "edgeai: error:" in capsys.readouterr().err
