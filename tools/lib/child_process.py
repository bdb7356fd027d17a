"""What the tools' scripts share about the processes they start."""
import signal
import subprocess


def stop(process, timeout):
    """SIGTERM, then SIGKILL if `process` has not exited within `timeout` seconds; waits for it."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
