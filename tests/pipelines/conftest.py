from tests.ray_fixture import ray_session

__all__ = ["ray_session"]
