"""Gradients for the custom train steps, on TensorFlow and on JAX.

A train step (``GANTrainStep``) is written once, with ``keras.ops``, and asks for its gradients
through two calls that this module implements per backend:

* ``minimize(compute, targets)``: ``compute()`` returns a dict of values; for every
  ``loss name -> (model, optimizer)`` in ``targets`` the optimizer makes one step down the
  gradient of that loss with respect to the model's trainable weights. All gradients come from one
  forward pass, and the optimizers step in the order of ``targets``.
* ``input_gradient(fn, x)``: d sum(fn(x)) / dx (WGAN-GP's penalty).

On TensorFlow these are ``tf.GradientTape`` (the step runs inside Keras' ``train_on_batch``).

On JAX, a step is *stateful* Keras code (``optimizer.apply``, ``variable.assign``, seed generators)
run as a pure function: :func:`jax_function` traces it (a ``train_step``, or the compiled engine's
whole iteration) once under a
:class:`TracedState` (a ``keras.StatelessScope`` that maps every state variable to a traced value and
records assignments instead of making them) and ``jax.jit``-compiles it. Gradients then come from
``jax.vjp`` of ``compute`` with the differentiated weights as arguments; ``compute`` runs in a
nested scope whose assignments (BatchNorm statistics, seed-generator states) leave the
differentiated function as auxiliary outputs and are assigned in the enclosing scope. Every read
inside a scope must find its variable mapped (an unmapped one would be read as a constant baked
into the compiled function), so the scope maps *all* the state the engine saves and the step's
trackers.
"""
from __future__ import annotations

import keras

from gan_keras import backend


# -- TensorFlow -------------------------------------------------------------------------------------
def scaled_gradients(tape, loss, variables, optimizer):
    """``tape.gradient(loss, variables)``, of the loss as ``optimizer`` wants it: scaled by the loss
    scale with ``--mixed-precision fp16`` (its ``apply`` unscales them), and over N devices
    (``--strategy mirrored``) each replica's share of the mean (the optimizer sums them)."""
    tf = backend.tf
    from gan_keras.training.distribute import replica_share

    seed = optimizer.scale_loss(tf.ones_like(loss))
    replicas = replica_share()[1]
    if replicas > 1:
        seed = seed / float(replicas)
    return tape.gradient(loss, variables, output_gradients=seed)


def _minimize_tf(compute, targets):
    tf = backend.tf
    with tf.GradientTape(persistent=len(targets) > 1) as tape:
        values = compute()
    grads = {name: scaled_gradients(tape, values[name], model.trainable_variables, optimizer)
             for name, (model, optimizer) in targets.items()}
    del tape
    for name, (model, optimizer) in targets.items():
        optimizer.apply(grads[name], model.trainable_variables)
    return values


def _input_gradient_tf(fn, x):
    tf = backend.tf
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = fn(x)
    return tape.gradient(out, x)


# -- JAX --------------------------------------------------------------------------------------------
class TracedState(keras.StatelessScope):
    """A StatelessScope over a fixed list of variables, which remembers that list (nested scopes
    map the same variables to the enclosing scope's current values)."""

    def __init__(self, variables, values):
        super().__init__(state_mapping=list(zip(variables, values)), initialize_variables=False)
        self.variables = list(variables)
        self.initial = {id(v): value for v, value in zip(variables, self.values())}

    def values(self):
        return [self.get_current_value(v) for v in self.variables]

    def updates(self):
        """(index, new value) of every variable assigned in this scope."""
        return [(i, value) for i, (v, value) in enumerate(zip(self.variables, self.values()))
                if value is not self.initial[id(v)]]


def _current_scope() -> TracedState:
    from keras.src.backend.common.stateless_scope import get_stateless_scope

    scope = get_stateless_scope()
    if not isinstance(scope, TracedState):
        raise RuntimeError("stateful training code on JAX must run through autodiff.jax_function (the engines do)")
    return scope


def _differentiable(fn, wrt):
    """fn, as a pure function of the values of the variable lists ``wrt`` (and of nothing else):
    returns (fn's value, updates of the other state made inside it)."""
    outer = _current_scope()
    index = {id(v): (i, j) for i, group in enumerate(wrt) for j, v in enumerate(group)}

    def pure(*groups):
        values = [groups[index[id(v)][0]][index[id(v)][1]] if id(v) in index else value
                  for v, value in zip(outer.variables, outer.values())]
        with TracedState(outer.variables, values) as inner:
            out = fn()
        updates = inner.updates()
        _refuse_writes_to(outer.variables[i] for i, _ in updates if id(outer.variables[i]) in index)
        return out, updates

    return pure


def _refuse_writes_to(differentiated):
    """A weight being differentiated cannot also be assigned inside the function differentiated:
    ``jax.vjp`` takes it as an argument, so the write would be lost and the step would train
    otherwise than on TensorFlow (where the tape sees the written value). Keras's
    ``SpectralNormalization`` writes W / sigma into its layer's kernel in ``call``; a spectral
    norm for a train step computes W / sigma without assigning it."""
    paths = [v.path for v in differentiated]
    if paths:
        raise RuntimeError(
            f"{', '.join(paths)}: assigned while its gradient is taken (a layer that writes its own trainable "
            f"weights in call, as keras.layers.SpectralNormalization does); on JAX the write would be lost and the "
            f"step would train otherwise than on TensorFlow. Compute such a weight in call without assigning it")


def _assign_updates(updates):
    outer = _current_scope()
    for i, value in updates:
        outer.variables[i].assign(value)


def _minimize_jax(compute, targets):
    import jax

    names = list(targets)
    weights = [list(model.trainable_variables) for model, _ in targets.values()]
    pure = _differentiable(compute, weights)

    def losses(*groups):
        values, updates = pure(*groups)
        scaled = tuple(optimizer.scale_loss(values[name]) for name, (_, optimizer) in targets.items())
        return scaled, (values, updates)

    current = [[v.value for v in group] for group in weights]
    scaled, vjp, (values, updates) = jax.vjp(losses, *current, has_aux=True)
    grads = []
    for i, name in enumerate(names):  # the gradient of loss i with respect to its own model only
        seeds = tuple(keras.ops.ones_like(s) if j == i else keras.ops.zeros_like(s) for j, s in enumerate(scaled))
        grads.append(vjp(seeds)[i])
    _assign_updates(updates)
    for (model, optimizer), group_grads in zip(targets.values(), grads):
        _apply_jax(optimizer, group_grads, model.trainable_variables)
    return values


def _apply_jax(optimizer, grads, variables):
    """``optimizer.apply`` in the current scope, through its stateless form (a LossScaleOptimizer's
    ``apply`` assigns inside a ``cond``, which a traced scope cannot record)."""
    values = {id(v): value for v, value in zip(_current_scope().variables, _current_scope().values())}
    new_weights, new_state = optimizer.stateless_apply([values[id(v)] for v in optimizer.variables], grads,
                                                       [values[id(v)] for v in variables])
    for v, value in zip(list(variables) + list(optimizer.variables), list(new_weights) + list(new_state)):
        v.assign(value)


def _input_gradient_jax(fn, x):
    import jax

    outer = _current_scope()

    def of_x(x_value):
        with TracedState(outer.variables, outer.values()) as inner:
            out = keras.ops.sum(fn(x_value))
        return out, inner.updates()

    _, vjp, updates = jax.vjp(of_x, x, has_aux=True)
    _assign_updates(updates)
    return vjp(keras.ops.ones(()))[0]


def jax_function(fn, variables):
    """``fn`` (stateful Keras code: a ``train_step``, an engine's iteration) as one compiled JAX
    function of the values of ``variables`` and ``fn``'s arguments: returns ``run(*args)``, which
    reads ``variables``, runs ``fn(*args)`` and assigns their new values. Every variable ``fn``
    reads must be in ``variables`` (see the module docstring)."""
    import jax

    variables = list(variables)

    def pure(values, *args):
        with TracedState(variables, values) as scope:
            out = fn(*args)
        return out, scope.values()

    compiled = jax.jit(pure)

    def run(*args):
        out, values = compiled([v.value for v in variables], *args)
        for v, value in zip(variables, values):
            v.assign(value)
        return out

    return run


def minimize(compute, targets):
    if backend.name() == "jax":
        return _minimize_jax(compute, targets)
    return _minimize_tf(compute, targets)


def input_gradient(fn, x):
    if backend.name() == "jax":
        return _input_gradient_jax(fn, x)
    return _input_gradient_tf(fn, x)
