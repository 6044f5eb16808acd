"""fastnn: the classic from-scratch neural network, compiled with Numba.

Change one import line of the tutorial::

    from fastnn import SimpleNeuralNetwork

and get the same numbers, much sooner.
"""

from .functions import binary_cross_entropy, sigmoid, sigmoid_derivative
from .network import SimpleNeuralNetwork

__version__ = "0.1.0"

__all__ = ["SimpleNeuralNetwork", "sigmoid", "sigmoid_derivative", "binary_cross_entropy", "__version__"]
