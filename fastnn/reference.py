"""The tutorial's network in plain NumPy, kept faithful to the tutorial.

This module is the oracle for fastnn's tests and the baseline for its
benchmarks. It reproduces "How to Implement a Basic Neural Network from
Scratch Using Python" line for line, quirks included: the output delta
multiplies by the sigmoid derivative (the squared-error rule), the loss is
computed from the output of the forward pass *before* the update, and
nothing is guarded against overflow. It must not import Numba.
"""

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_derivative(x):
    return x * (1 - x)


def binary_cross_entropy(y_true, y_pred):
    return -np.mean(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred))


class SimpleNeuralNetwork:
    def __init__(self, input_size, hidden_size, output_size):
        # Initialize weights with random values
        self.weights_input_hidden = np.random.randn(input_size, hidden_size)
        self.weights_hidden_output = np.random.randn(hidden_size, output_size)
        # Initialize biases with zeros
        self.bias_hidden = np.zeros((1, hidden_size))
        self.bias_output = np.zeros((1, output_size))

    def forward(self, X):
        # Compute hidden layer activation
        self.hidden_input = np.dot(X, self.weights_input_hidden) + self.bias_hidden
        self.hidden_output = sigmoid(self.hidden_input)
        # Compute output layer activation
        self.output_input = np.dot(self.hidden_output, self.weights_hidden_output) + self.bias_output
        self.output = sigmoid(self.output_input)
        return self.output

    def backward(self, X, y, learning_rate):
        # Calculate the error in the output
        output_error = self.output - y
        output_delta = output_error * sigmoid_derivative(self.output)
        # Calculate the error in the hidden layer
        hidden_error = output_delta.dot(self.weights_hidden_output.T)
        hidden_delta = hidden_error * sigmoid_derivative(self.hidden_output)
        # Update the weights and biases
        self.weights_hidden_output -= self.hidden_output.T.dot(output_delta) * learning_rate
        self.bias_output -= np.sum(output_delta, axis=0, keepdims=True) * learning_rate
        self.weights_input_hidden -= X.T.dot(hidden_delta) * learning_rate
        self.bias_hidden -= np.sum(hidden_delta, axis=0, keepdims=True) * learning_rate

    def train(self, X, y, epochs, learning_rate):
        for epoch in range(epochs):
            # Forward pass
            self.forward(X)
            # Backward pass
            self.backward(X, y, learning_rate)
            # Compute the loss
            loss = binary_cross_entropy(y, self.output)
            if epoch % 100 == 0:
                print(f"Epoch {epoch}, Loss: {loss}")
