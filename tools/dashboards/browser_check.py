#!/usr/bin/env python3
"""Opens a live `hardening agent`'s /dashboard in a real browser and watches it change.

The script starts an agent (and stops it, by its pid, whatever happens) that probes a TCP port
this script listens on ("vector-store") and posts its alerts to a webhook address where nothing
listens. Headless Chromium, driven by Selenium through chromium-driver, opens /dashboard and:

  1. waits until the page says it is connected to /events/stream and the view shows
     vector-store healthy and no breaker open;
  2. closes the listening port: the probes fail, the health lane turns red, two alert rules fire,
     their webhook posts fail and the webhook's circuit breaker opens;
  3. waits until the page shows all of it without a reload (vector-store "unhealthy", webhook
     "open") while the count of streamed events keeps rising, and saves a screenshot.

Usage:
  python3 tools/dashboards/browser_check.py --binary .build/debug/hardening --screenshot docs/dashboard.png
The last line printed is a JSON object with what was seen; the exit code is 1 when the page did
not show a change within --timeout seconds (the message says which), 2 when Selenium, Chromium or
chromium-driver is missing (`tools/setup.sh` installs them).
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from child_process import stop  # noqa: E402

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError:
    print("browser_check: selenium is missing (tools/setup.sh installs it)", file=sys.stderr)
    sys.exit(2)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cell(driver, heading, name, column):
    """The text of `column` (1-based) in the row of the table under `heading` whose first cell is `name`."""
    rows = driver.find_elements(By.XPATH, f"//h2[normalize-space()='{heading}']/following-sibling::table[1]//tr[td[1]='{name}']/td[{column}]")
    return rows[0].text if rows else None


def count(driver):
    text = driver.find_element(By.ID, "count").text
    return int(text) if text.isdigit() else 0


def wait_for(what, condition, timeout, seen):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if condition():
                seen[what] = round(time.time() - seen["_start"], 2)
                return
        except Exception:  # noqa: BLE001 - the page may be between two renderings
            pass
        time.sleep(0.2)
    raise TimeoutError(f"the dashboard did not show {what} within {timeout} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True, help="the hardening executable")
    parser.add_argument("--screenshot", required=True, help="where the PNG goes")
    parser.add_argument("--timeout", type=float, default=60, help="seconds each change may take to show")
    parser.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    for path in (args.chromedriver, args.chromium):
        if not os.path.exists(path):
            print(f"browser_check: {path} is missing (tools/setup.sh installs chromium and chromium-driver)", file=sys.stderr)
            return 2

    workdir = tempfile.mkdtemp(prefix="browser-check-")
    gate = socket.socket()
    gate.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    gate.bind(("127.0.0.1", 0))
    gate.listen(64)
    gate_port = gate.getsockname()[1]
    port, hook_port = free_port(), free_port()
    config = f"""service: dashboard-demo
server: {{host: 127.0.0.1, port: {port}}}
events: {{stdout: "off"}}
health:
  interval: 250ms
  timeout: 1s
  checks:
    - {{name: vector-store, type: tcp, host: 127.0.0.1, port: {gate_port}}}
    - {{name: events, type: sinks}}
alerts:
  rules:
    - {{name: consecutive_failures, consecutive_failures: 2, resolve_after: 2}}
    - {{name: error_rate, failure_ratio: 0.5, window: 4, minimum_probes: 2}}
  webhook: {{url: "http://127.0.0.1:{hook_port}/alerts", timeout: 1s, attempts: 4}}
"""
    config_path = os.path.join(workdir, "agent.yaml")
    with open(config_path, "w") as f:
        f.write(config)
    stderr = open(os.path.join(workdir, "agent.stderr"), "w+")
    agent = subprocess.Popen([args.binary, "agent", "--config", config_path], stdout=subprocess.DEVNULL, stderr=stderr,
                             stdin=subprocess.DEVNULL)
    driver = None
    seen = {"_start": time.time()}
    try:
        deadline = time.time() + 60
        while True:
            if agent.poll() is not None:
                stderr.seek(0)
                raise RuntimeError(f"the agent exited: {stderr.read()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("the agent did not listen")
                time.sleep(0.05)

        options = webdriver.ChromeOptions()
        options.binary_location = args.chromium
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,2400"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(args.chromedriver), options=options)
        driver.set_page_load_timeout(30)
        driver.get(f"http://127.0.0.1:{port}/dashboard")
        seen["_start"] = time.time()

        wait_for("the stream connected", lambda: driver.find_element(By.ID, "live").text.startswith("live"), args.timeout, seen)
        wait_for("vector-store healthy", lambda: cell(driver, "Health checks", "vector-store", 4) == "healthy", args.timeout, seen)
        before = count(driver)
        breaker_before = cell(driver, "Circuit breakers", "webhook", 2)
        if breaker_before == "open":
            raise RuntimeError("the webhook's breaker was open before anything failed")

        gate.close()  # the dependency goes down
        wait_for("vector-store unhealthy", lambda: cell(driver, "Health checks", "vector-store", 4) == "unhealthy", args.timeout, seen)
        wait_for("a red health lane", lambda: 'fill="#e53935"' in driver.find_element(By.CSS_SELECTOR, "svg[aria-label='health']")
                 .get_attribute("outerHTML"), args.timeout, seen)
        wait_for("an alert fired", lambda: (cell(driver, "Alerts", "consecutive_failures/vector-store", 2) or "0") != "0", args.timeout, seen)
        wait_for("the webhook's breaker open", lambda: cell(driver, "Circuit breakers", "webhook", 2) == "open", args.timeout, seen)
        wait_for("the event count rising", lambda: count(driver) > before + 10, args.timeout, seen)
        time.sleep(1.5)  # one more rendering, so that the screenshot shows the charts after the change
        driver.save_screenshot(args.screenshot)
        seen["events_counted"] = count(driver)
        seen["events_before_failure"] = before
        seen["screenshot"] = args.screenshot
        seen["console_errors"] = [entry["message"] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
        if seen["console_errors"]:
            raise RuntimeError(f"the page logged errors: {seen['console_errors']}")
        outcome = 0
    except (TimeoutError, RuntimeError) as error:
        seen["error"] = str(error)
        if driver is not None:
            try:
                driver.save_screenshot(args.screenshot)
            except Exception:  # noqa: BLE001 - the failure matters, not the picture
                pass
        print(f"browser_check: {error}", file=sys.stderr)
        outcome = 1
    finally:
        if driver is not None:
            driver.quit()
        stop(agent, timeout=20)
        try:
            gate.close()
        except OSError:
            pass
        shutil.rmtree(workdir, ignore_errors=True)
    seen["agent_exit"] = agent.returncode
    if outcome == 0 and agent.returncode != 0:
        print(f"browser_check: the agent exited {agent.returncode} at SIGTERM", file=sys.stderr)
        outcome = 1
    seen.pop("_start", None)
    print(json.dumps(seen, sort_keys=True))
    return outcome


if __name__ == "__main__":
    sys.exit(main())
