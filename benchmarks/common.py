"""What the benchmarks share: timing requests, and a client that is an enrolled kiosk."""

import statistics
import time

from app.kiosk import devices


def median_ms(client, url: str, headers: dict, expected: int, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        response.get_data()
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == expected, (url, response.status_code)
    return statistics.median(times)


def kiosk_client(app, name: str = "bench"):
    """A test client carrying a freshly enrolled kiosk's device cookie, as in the lobby: the
    cookie is looked up on every request, polls included."""
    with app.app_context():
        state = devices.pairing_for(None)
        devices.enroll(state.code, name)
        token = devices.pairing_for(state.new_claim).device_token
    client = app.test_client()
    client.set_cookie(devices.DEVICE_COOKIE, token)
    return client
