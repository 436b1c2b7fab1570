"""Shared fixtures: every test that takes ``device`` runs once per usable backend."""

import pytest

import minigrad as mg


@pytest.fixture(params=mg.devices())
def device(request):
    """A backend name from ``mg.devices()``; new backends inherit every such test."""
    return request.param


@pytest.fixture(autouse=True)
def _seeded():
    """Each test starts from the same seed and the numpy default device."""
    mg.manual_seed(0)
    mg.set_default_device("numpy")
    yield
    mg.set_default_device("numpy")
