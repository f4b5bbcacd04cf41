"""Small diffusion models: the terrain consistency model and Stable Diffusion ONNX pipelines."""
from .image import Image, read_png, save_png
from .terrain import TerrainOutput, TerrainPipeline

__all__ = ["Image", "save_png", "read_png", "TerrainPipeline", "TerrainOutput", "DiffusionPipeline"]


def __getattr__(name):
    if name == "DiffusionPipeline":
        from .sd import DiffusionPipeline
        return DiffusionPipeline
    raise AttributeError(name)
