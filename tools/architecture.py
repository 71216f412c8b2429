"""The Deep Learning book's reading of a built Keras model: its parts (x, h, g, s, o, C, L, y) and how they connect.

`derive(model)` walks the model's functional graph once, in topological order, and keeps
only what the book's chapter-10 figures draw:

- inputs: a sequence x, a fixed vector x (context), or the previous targets y fed back
  (teacher forcing; named by the recipe's `TEACHER_FORCED_INPUTS`, which the smoke test
  checks against the data);
- recurrent chains: every Keras `RNN` layer (SimpleRNN, LSTM, GRU, RNN(cell)) is one chain
  h, a `Bidirectional` layer two (h forwards, g backwards) and a merge; a chain whose
  initial state or per-step context comes from a fixed vector is a decoder s;
- convolutions: consecutive convolution and pooling layers are one block, with its time
  stride and receptive field computed from the layers' configs;
- reductions: a layer that turns a sequence into one vector (pooling, picking the root);
- the output o (the model's output), the loss L and the target y it is compared with.

Everything else (Embedding, Dense, Dropout, Concatenate, normalisation, reshapes) is a map
folded into the edges, as the book folds them into U, V and W. Keras' own recurrent layers
need nothing extra. A custom layer or cell describes its part with a `diagram_spec()`
method returning a dict (the documented protocol):

- a cell (in `keras.layers.RNN`): {"cell": "basic" | "lstm" | "gru" | "leaky" |
  "deep_transition", "units", "activation", "use_bias", optional "forget_bias",
  "peephole", "reset_after", "leak_rate", "depth", "shortcut", "trainable"}; or a
  wrapper {"wraps": inner_cell, "readout": layer, "output_feedback": True} whose readout
  output is fed back as the next input (sine_continuation's closed loop).
- a recurrent layer: {"kind": "recurrent", "cell": cell, "arguments": {call argument name:
  "step" | "initial_state" | "context" | "attention" | None}, "outputs": roles of its
  outputs in order, from "sequence", "sequence_with_context", "attention_weights",
  "final_states" (the rest)}.
- {"kind": "recursive", "units": n}: one composition shared over a tree (fig. 10.14).
- {"kind": "convolution", "kernel_size", "dilation_rate", "strides", "padding"}.
- {"kind": "reduce", "label": text}: a sequence read into one vector (e.g. a tree's root).

`statements(arch)` then computes the course's statements (catalog properties) from the
parts and links, each with the reason it holds or not.
"""

import inspect
from dataclasses import dataclass, field

# Book symbols of the parts, in the notation of Goodfellow, Bengio & Courville (2016), ch. 10.
SYMBOLS = {
    "input": "x",
    "context": "x",
    "feedback": "y",
    "chain": "h",
    "backward": "g",
    "decoder": "s",
    "summary": "C",
    "attention": "c",
    "output": "o",
    "loss": "L",
    "target": "y",
}
# Weight letters by the role of an edge (the book's U, V, W; R for output-to-hidden, as in fig. 10.10).
WEIGHT_LETTERS = {"step": "U", "context": "U", "attended": "U", "recurrence": "W", "readout": "V", "feedback": "R"}
# Why a part's connection matters to the course statements: the roles of links.
LINK_ROLES = (
    "step",  # a sequence read at every step (x(t) -> h(t))
    "feedback",  # the previous output read at every step (y(t-1) -> h(t))
    "recurrence",  # h(t-1) -> h(t) (g(t+1) -> g(t) backwards)
    "output_feedback",  # o(t-1) -> h(t) inside the model (a closed loop)
    "context",  # a fixed vector read at every step (x -> h(t) for every t)
    "initial_state",  # a fixed vector as the initial state (x -> h(0))
    "summary",  # a chain's final state read into one vector (h(tau) -> C)
    "attention",  # every step of a sequence read into an attention context (h(i) -> c(t))
    "query",  # the decoder's previous state queries the attention (s(t-1) -> c(t))
    "attended",  # the attention context read by the decoder (c(t) -> s(t))
    "merge",  # the two directions of a Bidirectional layer merged per step
    "pool",  # a sequence reduced to one vector (pooling, a tree's root)
    "readout",  # into the output o
    "convolve",  # into or out of a convolution block
    "children",  # a tree node's children (recursive composition)
)
_STATE_NAMES = {"lstm": ("h", "c")}


class DerivationError(ValueError):
    """The model has a structure the derivation does not know how to read (a clear message, never a guess)."""


@dataclass
class Part:
    """One node of the folded (circuit) diagram.

    Attributes:
        id: stable identifier ("x", "y_prev", "h1", "g1", "s", "merge1", "conv", "o", ...).
        kind: input | context | feedback | chain | merge | conv | hidden | reduce | summary |
            attention | tree | output.
        symbol: the book's letter (x, y, h, g, s, C, c, o).
        layer: the Keras layer path it comes from ("" for parts with no layer of their own).
        info: what the figure notes about it (units, cell spec, direction, merge mode, stride, ...).
    """

    id: str
    kind: str
    symbol: str
    layer: str = ""
    info: dict = field(default_factory=dict)


@dataclass
class Link:
    """One edge of the folded diagram: `source` -> `target` in role `role` (see LINK_ROLES).

    `chain` names the chain whose weights the edge uses (for the U/W/R letters of a stacked
    or encoder-decoder model); `states` lists the states handed over by an initial-state edge.
    """

    source: str
    target: str
    role: str
    chain: str = ""
    states: tuple = ()

    @property
    def weight(self):
        """The weight letter of this edge (U, W, V or R), or None for edges with no weight matrix."""
        return WEIGHT_LETTERS.get(self.role)


@dataclass
class Architecture:
    """The derived book-notation graph of one model."""

    name: str
    parts: dict = field(default_factory=dict)  # id -> Part, in creation (topological) order
    links: list = field(default_factory=list)
    loss: dict = field(default_factory=dict)  # {"name": ..., "per_step": bool, "sequence": bool (CTC)}
    notes: list = field(default_factory=list)  # what could not be derived, said explicitly

    def of_kind(self, *kinds):
        return [part for part in self.parts.values() if part.kind in kinds]

    def links_into(self, target, *roles):
        return [link for link in self.links if link.target == target and (not roles or link.role in roles)]

    def links_from(self, source, *roles):
        return [link for link in self.links if link.source == source and (not roles or link.role in roles)]

    def chains(self):
        """Recurrent chains over time, in order (forward, backward and decoder chains)."""
        return self.of_kind("chain")

    def add(self, part):
        self.parts[part.id] = part
        return part

    def link(self, source, target, role, chain="", states=()):
        for existing in self.links:
            if (existing.source, existing.target, existing.role) == (source, target, role):
                existing.states = tuple(dict.fromkeys(existing.states + tuple(states)))
                return existing
        self.links.append(Link(source, target, role, chain, tuple(states)))
        return self.links[-1]


# --- Cells: the gate template of a recurrent cell, from its config or its own diagram_spec(). ---


def cell_spec(cell):
    """Normalised description of a recurrent cell, for the cell view and the gated-memory statement.

    Returns:
        dict with "cell" (basic | lstm | gru | leaky | deep_transition | unknown), "units",
        "activation", "recurrent_activation", "use_bias", "forget_bias", "peephole",
        "reset_after", "trainable", "class", and for wrappers "output_feedback" and "readout".
    """
    import keras

    spec = {"class": type(cell).__name__, "trainable": bool(getattr(cell, "trainable", True)), "peephole": False}
    own = getattr(cell, "diagram_spec", None)
    if callable(own):
        declared = dict(own())
        if "wraps" in declared:
            inner = cell_spec(declared.pop("wraps"))
            readout = declared.pop("readout", None)
            return {**inner, **declared, "wrapper": type(cell).__name__, "readout_units": getattr(readout, "units", None)}
        return {**spec, **declared}
    config = cell.get_config()
    common = {
        "units": config.get("units"),
        "activation": config.get("activation"),
        "recurrent_activation": config.get("recurrent_activation"),
        "use_bias": config.get("use_bias", True),
    }
    if isinstance(cell, keras.layers.LSTMCell):
        forget = 1.0 if config.get("unit_forget_bias") and config.get("use_bias", True) else 0.0
        return {**spec, **common, "cell": "lstm", "forget_bias": forget}
    if isinstance(cell, keras.layers.GRUCell):
        return {**spec, **common, "cell": "gru", "reset_after": bool(config.get("reset_after", True))}
    if isinstance(cell, keras.layers.SimpleRNNCell):
        return {**spec, **common, "cell": "basic"}
    return {**spec, "cell": "unknown", "units": getattr(cell, "units", None)}


def state_names(spec):
    """Names of a cell's states in the book's notation: ('h', 'c') for an LSTM, ('h',) otherwise."""
    return _STATE_NAMES.get(spec.get("cell"), ("h",))


# --- The walk over the functional graph. ---


def _is_tensor(value):
    import keras

    return isinstance(value, keras.KerasTensor)


def _rank(tensor):
    return len(tensor.shape)


def _is_sequence(tensor):
    """A tensor with a time axis: (batch, time, features...), or (batch, time) integer ids."""
    shape = tensor.shape
    if len(shape) >= 3:
        return True
    return len(shape) == 2 and "int" in str(tensor.dtype) and shape[1] != 1


def _ordered_nodes(model):
    """The model's nodes in topological order (inputs first), stable within a depth."""
    by_depth = getattr(model, "_nodes_by_depth", None)
    if by_depth is None:
        raise DerivationError(f"'{model.name}' is not a functional model; the derivation reads a functional graph (keras.Model(inputs, outputs)).")
    nodes = []
    for depth in sorted(by_depth, reverse=True):
        nodes.extend(sorted(by_depth[depth], key=lambda node: node.operation.name))
    return nodes


def _bound_arguments(node):
    """{call argument name: value} of a node's call (positional arguments named by the layer's call signature)."""
    args, kwargs = node.arguments.args, node.arguments.kwargs
    try:
        bound = inspect.signature(node.operation.call).bind(*args, **kwargs)
        return dict(bound.arguments)
    except (TypeError, ValueError):
        return {**{f"arg{index}": value for index, value in enumerate(args)}, **kwargs}


def _tensors(value):
    import keras

    return [item for item in keras.tree.flatten(value) if _is_tensor(item)]


class _Walk:
    """State of one derivation: flows of the tensors seen so far and the architecture being built."""

    def __init__(self, model, teacher_forced):
        self.model = model
        self.teacher_forced = set(teacher_forced)
        self.arch = Architecture(model.name)
        self.flows = {}  # id(tensor) -> {(part id, port): states}; port: seq | last | vec | ctx
        self.counts = {}

    # -- flows --
    def flow(self, tensor):
        return self.flows.get(id(tensor), {})

    def union(self, tensors):
        merged = {}
        for tensor in tensors:
            for key, states in self.flow(tensor).items():
                merged[key] = tuple(dict.fromkeys(merged.get(key, ()) + states))
        return merged

    def set_flow(self, tensor, flow):
        self.flows[id(tensor)] = flow

    def new_id(self, stem):
        self.counts[stem] = self.counts.get(stem, 0) + 1
        return stem if self.counts[stem] == 1 else f"{stem}{self.counts[stem]}"

    # -- the walk --
    def run(self):
        output_ids = {id(tensor) for tensor in self.model.outputs}
        for node in _ordered_nodes(self.model):
            layer = node.operation
            if type(layer).__name__ == "InputLayer":
                self.input(layer, node.outputs[0])
                continue
            arguments = _bound_arguments(node)
            data = {name: value for name, value in arguments.items() if not _is_mask(name) and name != "training"}
            produces_output = any(id(tensor) in output_ids for tensor in node.outputs)
            self.operation(layer, data, node.outputs, produces_output)
        for index, tensor in enumerate(self.model.outputs):
            self.output(tensor, index)
        self.loss()
        return self.arch

    def input(self, layer, tensor):
        name = layer.name
        if name in self.teacher_forced:
            part = Part(self.new_id("y_prev"), "feedback", "y", name, {"shape": tuple(tensor.shape)})
            port = "seq"
        elif _is_sequence(tensor):
            part = Part(self.new_id("x"), "input", "x", name, {"shape": tuple(tensor.shape)})
            port = "seq"
        elif len(tensor.shape) == 2 and tensor.shape[1] == 1 and "int" in str(tensor.dtype):
            # An index into another input (the root of a tree): structure, not data.
            self.set_flow(tensor, {})
            return
        else:
            part = Part(self.new_id("x"), "context", "x", name, {"shape": tuple(tensor.shape)})
            port = "vec"
        self.arch.add(part)
        self.set_flow(tensor, {(part.id, port): ()})

    def operation(self, layer, data, outputs, produces_output):
        import keras

        spec = getattr(layer, "diagram_spec", None)
        spec = dict(spec()) if callable(spec) and not isinstance(layer, keras.layers.RNN) else None
        if isinstance(layer, keras.layers.Bidirectional):
            return self.bidirectional(layer, data, outputs)
        if isinstance(layer, keras.layers.RNN):
            return self.recurrent(layer, layer.cell, data, outputs, layer.return_sequences)
        if spec and spec.get("kind") == "recurrent":
            return self.custom_recurrent(layer, spec, data, outputs)
        if spec and spec.get("kind") == "recursive":
            return self.recursive(layer, spec, data, outputs)
        if spec and spec.get("kind") == "convolution" or _is_convolution(layer):
            return self.convolution(layer, spec or _convolution_config(layer), data, outputs)
        if outputs and all(str(tensor.dtype) == "bool" for tensor in outputs):
            for tensor in outputs:  # a mask (Embedding's not_equal): padding, not data
                self.set_flow(tensor, {})
            return
        inputs = _tensors(list(data.values()))
        flow = self.union(inputs)
        seq_in = [key for key in flow if key[1] == "seq"]
        out_is_seq = bool(outputs) and _rank(outputs[0]) >= 3
        if (spec and spec.get("kind") == "reduce") or (seq_in and outputs and not out_is_seq and _rank(outputs[0]) == 2):
            return self.reduce(layer, spec, flow, outputs)
        if out_is_seq and any(port in ("vec", "last") for _, port in flow):
            # A fixed vector repeated at every step (RepeatVector, a context concatenated per step).
            flow = {(pid, "ctx" if port in ("vec", "last") else port): states for (pid, port), states in flow.items()}
        if self.is_hidden_layer(layer, flow, produces_output):
            return self.hidden(layer, flow, outputs)
        for tensor in outputs:
            self.set_flow(tensor, flow)

    # -- parts --
    def chain_part(self, layer_path, spec, direction, kind_id="h"):
        part = Part(self.new_id(kind_id), "chain", "g" if direction == "backward" else "h", layer_path, {"cell": spec, "direction": direction})
        part.info["units"] = spec.get("units")
        return self.arch.add(part)

    def read_sequence(self, chain, flow):
        """Links from what a chain reads at every step."""
        for (pid, port), _ in flow.items():
            source = self.arch.parts[pid]
            if port == "seq":
                role = "feedback" if source.kind == "feedback" else ("attended" if source.kind == "attention" else "step")
                self.arch.link(pid, chain.id, role, chain=chain.id)
        for source in self.vector_sources({key: states for key, states in flow.items() if key[1] == "ctx"}):
            self.arch.link(source, chain.id, "context", chain=chain.id)

    def read_initial_state(self, chain, tensors):
        """Links from what sets a chain's initial state, one state per tensor (h, or h and c)."""
        for name, tensor in zip(state_names(chain.info["cell"]), tensors):
            for source in self.vector_sources(self.flow(tensor)):
                self.arch.link(source, chain.id, "initial_state", chain=chain.id, states=(name,))

    def vector_sources(self, flow):
        """The parts a fixed vector comes from: context inputs as they are, chains' final states through one C."""
        chains = sorted(pid for pid, _ in flow if self.arch.parts[pid].kind == "chain")
        others = [pid for pid, _ in flow if self.arch.parts[pid].kind != "chain"]
        if not chains:
            return others
        for part in self.arch.of_kind("summary"):
            if sorted(link.source for link in self.arch.links_into(part.id, "summary")) == chains:
                return others + [part.id]
        summary = self.arch.add(Part(self.new_id("C"), "summary", "C"))
        for pid in chains:
            self.arch.link(pid, summary.id, "summary")
            self.arch.parts[pid].info["summarised"] = True
        return others + [summary.id]

    def finish_chain(self, chain, spec):
        self.arch.link(chain.id, chain.id, "recurrence", chain=chain.id)
        if spec.get("output_feedback"):
            chain.info["output_feedback"] = True

    def recurrent(self, layer, cell, data, outputs, return_sequences, path=None, direction=None):
        spec = cell_spec(cell)
        direction = direction or ("backward" if getattr(layer, "go_backwards", False) else "forward")
        chain = self.chain_part(path or layer.name, spec, direction)
        chain.info.update(return_sequences=return_sequences, stateful=bool(getattr(layer, "stateful", False)))
        sequence = data.get("sequences", data.get("inputs", next(iter(data.values()), None)))
        self.read_sequence(chain, self.union(_tensors(sequence)))
        if data.get("initial_state") is not None:
            self.read_initial_state(chain, _tensors(data["initial_state"]))
        self.finish_chain(chain, spec)
        if outputs:
            names = state_names(spec)
            self.set_flow(outputs[0], {(chain.id, "seq" if return_sequences else "last"): ("h",) if not return_sequences else ()})
            for name, tensor in zip(names, outputs[1:]):
                self.set_flow(tensor, {(chain.id, "last"): (name,)})
        return chain

    def bidirectional(self, layer, data, outputs):
        sequence = data.get("sequences", next(iter(data.values())))
        flow = self.union(_tensors(sequence))
        chains = []
        for inner, direction in ((layer.forward_layer, "forward"), (layer.backward_layer, "backward")):
            spec = cell_spec(inner.cell)
            chain = self.chain_part(f"{layer.name}/{direction}", spec, direction)
            chain.info.update(return_sequences=inner.return_sequences, stateful=bool(getattr(inner, "stateful", False)), bidirectional=layer.name)
            self.read_sequence(chain, flow)
            self.finish_chain(chain, spec)
            chains.append((chain, spec))
        if data.get("initial_state") is not None:
            states = _tensors(data["initial_state"])
            for chain, tensors in zip((c for c, _ in chains), (states[: len(states) // 2], states[len(states) // 2 :])):
                self.read_initial_state(chain, tensors)
        merge = self.arch.add(Part(self.new_id("merge"), "merge", "m", layer.name, {"mode": layer.merge_mode}))
        for chain, _ in chains:
            self.arch.link(chain.id, merge.id, "merge")
        if not outputs:
            return
        if layer.return_sequences:
            self.set_flow(outputs[0], {(merge.id, "seq"): ()})
        else:
            self.set_flow(outputs[0], {(chain.id, "last"): ("h",) for chain, _ in chains})
        state_outputs = outputs[1:]
        half = len(state_outputs) // 2
        for (chain, spec), tensors in zip(chains, (state_outputs[:half], state_outputs[half:])):
            for name, tensor in zip(state_names(spec), tensors):
                self.set_flow(tensor, {(chain.id, "last"): (name,)})

    def custom_recurrent(self, layer, spec, data, outputs):
        cell = spec["cell"]
        cell_description = cell_spec(cell)
        roles = spec.get("arguments", {})
        by_role, initial_state = {}, []
        for name, role in roles.items():
            if role and data.get(name) is not None:
                by_role[role] = self.union(_tensors(data[name]))
                if role == "initial_state":
                    initial_state = _tensors(data[name])
        chain = self.chain_part(layer.name, cell_description, "forward")
        chain.info.update(return_sequences=True)
        if "attention" in by_role:
            attention = self.arch.add(Part(self.new_id("c"), "attention", "c", layer.name, {}))
            for pid, _port in by_role["attention"]:
                self.arch.link(pid, attention.id, "attention")
            self.arch.link(chain.id, attention.id, "query")
            self.arch.link(attention.id, chain.id, "attended", chain=chain.id)
            chain.info["attention"] = attention.id
        self.read_sequence(chain, by_role.get("step", {}))
        if "context" in by_role:
            context = {(pid, "ctx"): states for (pid, port), states in by_role["context"].items()}
            self.read_sequence(chain, context)
        self.read_initial_state(chain, initial_state)
        self.finish_chain(chain, cell_description)
        output_roles = list(spec.get("outputs", ("sequence",)))
        names = iter(state_names(cell_description))
        for index, tensor in enumerate(outputs):
            role = output_roles[index] if index < len(output_roles) else "final_states"
            if role == "sequence":
                self.set_flow(tensor, {(chain.id, "seq"): ()})
            elif role == "sequence_with_context":
                flow = {(chain.id, "seq"): ()}
                if "attention" in chain.info:
                    flow[(chain.info["attention"], "seq")] = ()
                self.set_flow(tensor, flow)
            elif role == "final_states":
                self.set_flow(tensor, {(chain.id, "last"): (next(names, "h"),)})
            else:
                self.set_flow(tensor, {})

    def recursive(self, layer, spec, data, outputs):
        tree = self.arch.add(Part(self.new_id("tree"), "tree", "h", layer.name, {"units": spec.get("units")}))
        inputs = _tensors(list(data.values()))
        if "data_inputs" in spec:  # the others give the tree's shape (child positions), not data
            inputs = [inputs[index] for index in spec["data_inputs"]]
        for pid, _port in self.union(inputs):
            self.arch.link(pid, tree.id, "step", chain=tree.id)
        self.arch.link(tree.id, tree.id, "children", chain=tree.id)
        for tensor in outputs:
            self.set_flow(tensor, {(tree.id, "seq"): ()})

    def convolution(self, layer, config, data, outputs):
        flow = self.union(_tensors(list(data.values())))
        sources = {pid for pid, port in flow}
        conv_sources = [pid for pid in sources if self.arch.parts[pid].kind == "conv"]
        if conv_sources:
            block = self.arch.parts[conv_sources[0]]
            for other in conv_sources[1:]:  # branches that meet again (a residual sum) are one block
                self.absorb(block, self.arch.parts[other])
        else:
            block = self.arch.add(Part(self.new_id("conv"), "conv", "conv", layer.name, {"layers": []}))
        for pid in sources - {block.id} - set(conv_sources):
            self.arch.link(pid, block.id, "convolve")
        block.info["layers"].append({"name": layer.name, "type": type(layer).__name__, **config})
        for tensor in outputs:
            self.set_flow(tensor, {(block.id, "seq"): ()})

    def absorb(self, block, other):
        block.info["layers"].extend(other.info["layers"])
        for link in self.arch.links:
            if link.source == other.id:
                link.source = block.id
            if link.target == other.id:
                link.target = block.id
        self.arch.links = [link for link in self.arch.links if not (link.source == link.target == block.id and link.role == "convolve")]
        del self.arch.parts[other.id]
        for key, flow in self.flows.items():
            if any(pid == other.id for pid, _ in flow):
                self.flows[key] = {((block.id if pid == other.id else pid), port): states for (pid, port), states in flow.items()}

    def reduce(self, layer, spec, flow, outputs):
        label = (spec or {}).get("label") or _reduce_label(layer)
        part = self.arch.add(Part(self.new_id("reduce"), "reduce", "r", layer.name, {"label": label}))
        for (pid, port), _ in flow.items():
            if port == "seq":
                self.arch.link(pid, part.id, "pool")
        for tensor in outputs:
            self.set_flow(tensor, {(part.id, "vec"): ()})

    def is_hidden_layer(self, layer, flow, produces_output):
        """A per-step hidden layer read straight from the inputs (fig. 10.4's h with no h -> h): a Dense with a nonlinearity."""
        import keras

        if produces_output or not isinstance(layer, keras.layers.Dense) or not flow:
            return False
        if layer.get_config().get("activation") in (None, "linear"):
            return False
        return all(port == "seq" and self.arch.parts[pid].kind in ("input", "feedback") for pid, port in flow)

    def hidden(self, layer, flow, outputs):
        part = self.arch.add(
            Part(self.new_id("h"), "hidden", "h", layer.name, {"units": layer.units, "activation": layer.get_config()["activation"]})
        )
        self.read_sequence(part, flow)
        for tensor in outputs:
            self.set_flow(tensor, {(part.id, "seq"): ()})

    def output(self, tensor, index):
        flow = self.flow(tensor)
        per_step = _rank(tensor) >= 3
        part = self.arch.add(Part("o" if index == 0 else f"o{index + 1}", "output", "o", tensor._keras_history.operation.name))
        part.info.update(per_step=per_step, units=tensor.shape[-1])
        for (pid, port), _ in flow.items():
            self.arch.link(pid, part.id, "readout")
            if port == "last":
                part.info["after_sequence"] = True
                self.arch.parts[pid].info["summarised"] = True
        if any(self.arch.parts[pid].kind == "reduce" for pid, _ in flow):
            part.info["after_sequence"] = True
        for chain in self.arch.chains():
            if chain.info.get("output_feedback") and (chain.id, "seq") in flow:
                self.arch.link(part.id, chain.id, "output_feedback", chain=chain.id)
                chain.info["readout_inside"] = True

    def loss(self):
        loss = getattr(self.model, "loss", None)
        if loss is None:
            self.arch.notes.append("not compiled: no loss L or target y")
            return
        name = loss if isinstance(loss, str) else getattr(loss, "name", type(loss).__name__)
        sequence = "ctc" in str(name).lower()
        per_step = any(part.info.get("per_step") for part in self.arch.of_kind("output"))
        self.arch.loss = {"name": str(name), "per_step": per_step and not sequence, "sequence": sequence}


def _is_mask(name):
    return name == "mask" or name.endswith("_mask")


def _is_convolution(layer):
    import keras

    conv_base = keras.src.layers.convolutional.base_conv.BaseConv
    pool_base = keras.src.layers.pooling.base_pooling.BasePooling
    return isinstance(layer, (conv_base, pool_base))


def _convolution_config(layer):
    """kernel size, dilation and stride along the time axis (axis 1) of a Keras convolution or pooling layer."""
    config = layer.get_config()
    first = lambda value, default=1: (value[0] if isinstance(value, (list, tuple)) else value) if value is not None else default  # noqa: E731
    kernel = first(config.get("kernel_size", config.get("pool_size")))
    strides = first(config.get("strides"), kernel if "pool_size" in config else 1)
    return {"kernel_size": kernel, "dilation_rate": first(config.get("dilation_rate")), "strides": strides, "padding": config.get("padding", "valid")}


def _reduce_label(layer):
    kind = type(layer).__name__
    if "Average" in kind:
        return "average over time"
    if "Max" in kind:
        return "maximum over time"
    return kind


def receptive_field(block):
    """(frames of input context, time stride, causal) of a convolution block, from its layers in order.

    Layers are composed in the order they were called; branches that merge (WaveNet's skip
    sum) are read as one path through every layer, which is exact for a chain of layers
    and for residual stacks whose last layer sees the whole stack.
    """
    field_size, jump, causal = 1, 1, True
    for layer in block.info["layers"]:
        kernel, dilation, stride = layer["kernel_size"], layer["dilation_rate"], layer["strides"]
        field_size += (kernel - 1) * dilation * jump
        jump *= stride
        causal = causal and layer.get("padding") == "causal"
    return field_size, jump, causal


def derive(model, teacher_forced=()):
    """The book-notation Architecture of a built Keras functional model.

    Args:
        model: a keras.Model built from inputs to outputs (untrained or loaded from a run).
        teacher_forced: names of the inputs that carry the targets shifted by one step
            (the recipe's TEACHER_FORCED_INPUTS).

    Raises:
        DerivationError: the model is not functional, or an input name is not one of the model's.
    """
    names = {tensor._keras_history.operation.name for tensor in getattr(model, "inputs", None) or []}
    unknown = sorted(set(teacher_forced) - names)
    if unknown:
        raise DerivationError(
            f"TEACHER_FORCED_INPUTS names {unknown[0]!r}, which is not an input of '{model.name}' (inputs: {', '.join(sorted(names))})."
        )
    arch = _Walk(model, teacher_forced).run()
    for part in arch.of_kind("input"):  # inputs that only give structure (a tree's child positions)
        if not arch.links_from(part.id):
            del arch.parts[part.id]
    _name_chains(arch)
    return arch


def _name_chains(arch):
    """Book symbols and levels of the chains: h / g per direction, s for an encoder-decoder's decoder, a level per stacked layer."""
    for chain in arch.chains():
        if arch.links_into(chain.id, "initial_state", "context", "attended"):
            chain.info["decoder"] = True
            if _reads_an_encoder(arch, chain.id):  # fig. 10.12 writes the decoder's state s; fig. 10.9 keeps h
                chain.symbol = "s"
    # Levels: 1 + the deepest chain a chain reads from (through merges), per group (encoder, decoder).
    level = {}
    for chain in arch.chains():
        below = [level.get(source, 0) for source in _chain_sources(arch, chain.id)]
        level[chain.id] = 1 + max(below, default=0)
        chain.info["level"] = level[chain.id]
    deepest = {}
    for chain in arch.chains():
        deepest[chain.symbol] = max(deepest.get(chain.symbol, 0), chain.info["level"])
    for chain in arch.chains():
        chain.info["levels"] = deepest[chain.symbol] if chain.symbol != "g" else deepest.get("h", 1)


def _chain_sources(arch, pid, seen=()):
    """Chains whose per-step output reaches part `pid` directly or through merges (stacking)."""
    found = []
    for link in arch.links_into(pid, "step"):
        source = arch.parts[link.source]
        if source.kind == "chain":
            found.append(source.id)
        elif source.kind == "merge" and source.id not in seen:
            found += [entry.source for entry in arch.links_into(source.id, "merge")]
    return found


# --- The course's statements (catalog properties), computed from the derived parts and links. ---


@dataclass
class Statement:
    """Whether a course statement holds for a model (None: it cannot be derived), and why."""

    holds: object
    why: str


def statements(arch):
    """{catalog property: Statement} for every property the derivation can decide.

    Definitions (Deep Learning book ch. 10 and the course slides' numbering):
        output_each_step (1): an output at every step of the sequence the model reads; a
            decoder writing from a fixed vector has outputs at its own steps only (figs. 10.9, 10.12).
        output_after_sequence (2): an output read from a final state or a reduction of the sequence.
        context_input (3): a fixed vector sets a chain's initial state or is read at every step.
        hidden_recurrence (4): a chain over time with h(t-1) -> h(t) (a tree's composition is not one).
        output_recurrence (5): the previous output is read at the next step (teacher-forced input or closed loop).
        encoder (7): a chain whose final state is read (a summary of the whole input).
        decoder (8): a chain that writes from a fixed vector (initial state, per-step context or attention).
        encoder_decoder (9): an encoder's summary or steps reach a decoder.
        bidirectional (10): a chain running backwards next to a forward one.
        teacher_forcing (11): an input carries the true previous outputs in training.
        parallel_training (12): no hidden state links the steps (no chain, no tree, no closed loop), so
            teacher-forced training computes every step at once.
        gated_memory: a chain's cell is an LSTM or a GRU.
        convolutional_front_end: convolutions read the input sequence.
        attention: a decoder reads an attention context over a sequence.
    """
    chains = arch.chains()
    parts = arch.parts.values()
    feedback = arch.of_kind("feedback")
    closed = [chain for chain in chains if chain.info.get("output_feedback")]
    decoders = [chain for chain in chains if chain.info.get("decoder")]
    encoders = [chain for chain in chains if chain.info.get("summarised")]
    result = {}

    def name(items):
        return ", ".join(item.layer or item.id for item in items) or "none"

    outputs = arch.of_kind("output")
    per_step = [
        o for o in outputs if o.info.get("per_step") and not any(_writes_from_context(arch, link.source) for link in arch.links_into(o.id, "readout"))
    ]
    writers = f"; {name(decoders)} writes steps of its own from a fixed vector" if decoders and not per_step else ""
    result["output_each_step"] = Statement(bool(per_step), f"outputs at every step of the sequence read: {name(per_step)}{writers}")
    after = [o for o in outputs if o.info.get("after_sequence")]
    result["output_after_sequence"] = Statement(bool(after), f"outputs after the whole input: {name(after)}")
    context = [link for link in arch.links if link.role in ("initial_state", "context")]
    result["context_input"] = Statement(bool(context), f"{len(context)} initial-state or per-step context edges")
    result["hidden_recurrence"] = Statement(bool(chains), f"chains over time: {name(chains)}")
    result["output_recurrence"] = Statement(bool(feedback or closed), f"fed-back outputs: {name(feedback + closed)}")
    result["encoder"] = Statement(bool(encoders), f"chains whose final state is read: {name(encoders)}")
    result["decoder"] = Statement(bool(decoders), f"chains writing from a fixed vector: {name(decoders)}")
    coupled = [chain for chain in decoders if _reads_an_encoder(arch, chain.id)]
    result["encoder_decoder"] = Statement(bool(coupled), f"decoders reading an encoder: {name(coupled)}")
    backward = [chain for chain in chains if chain.info.get("direction") == "backward"]
    result["bidirectional"] = Statement(bool(backward), f"backward chains: {name(backward)}")
    result["teacher_forcing"] = Statement(bool(feedback), f"inputs carrying the previous targets: {name(feedback)}")
    linked = chains + arch.of_kind("tree")
    result["parallel_training"] = Statement(not linked, f"state linking the steps: {name(linked)}")
    cells = [chain.info["cell"].get("cell") for chain in chains]
    if "unknown" in cells:
        unknown = [chain for chain in chains if chain.info["cell"].get("cell") == "unknown"]
        result["gated_memory"] = Statement(None, f"cell of {name(unknown)} not known: give it a diagram_spec()")
    else:
        gated = [chain for chain in chains if chain.info["cell"].get("cell") in ("lstm", "gru")]
        result["gated_memory"] = Statement(bool(gated), f"LSTM/GRU chains: {name(gated)}")
    front = [
        part
        for part in parts
        if part.kind == "conv" and any(arch.parts[link.source].kind in ("input", "feedback") for link in arch.links_into(part.id))
    ]
    result["convolutional_front_end"] = Statement(bool(front), f"convolutions reading the input: {name(front)}")
    attention = arch.of_kind("attention")
    result["attention"] = Statement(bool(attention), f"attention contexts: {name(attention)}")
    return result


def _writes_from_context(arch, pid):
    """True when part `pid` is a decoder chain or its attention context (outputs at the decoder's own steps)."""
    part = arch.parts[pid]
    if part.kind == "attention":
        return True
    return part.kind == "chain" and bool(part.info.get("decoder"))


def _reads_an_encoder(arch, pid):
    for link in arch.links_into(pid, "initial_state", "context", "attended"):
        source = arch.parts[link.source]
        if source.kind == "summary":
            return True
        if source.kind == "attention" and any(
            arch.parts[entry.source].kind in ("chain", "merge") for entry in arch.links_into(source.id, "attention")
        ):
            return True
    return False


def derived_properties(arch):
    """The catalog properties that hold for `arch`, and those the derivation cannot decide (with why)."""
    found = statements(arch)
    return {key for key, statement in found.items() if statement.holds}, {key: s.why for key, s in found.items() if s.holds is None}


def property_problems(recipe_id, listed, arch):
    """One line per disagreement between a recipe's catalog properties and what its model derives to.

    Args:
        recipe_id: catalog id (named in every line).
        listed: the catalog's properties of the recipe.
        arch: the derived Architecture of its model (DEFAULT_CONFIG).

    Returns:
        (problems, notes): problems make `recipe validate` fail; notes name statements that
        cannot be derived (said, not silently skipped).
    """
    problems, notes = [], []
    for key, statement in statements(arch).items():
        if statement.holds is None:
            notes.append(f"catalog entry '{recipe_id}': '{key}' cannot be derived from the model ({statement.why}); not checked.")
        elif statement.holds and key not in listed:
            problems.append(
                f"catalog entry '{recipe_id}': the model has '{key}' ({statement.why}) but its properties do not list it. Add it to catalog.yaml."
            )
        elif not statement.holds and key in listed:
            problems.append(
                f"catalog entry '{recipe_id}': properties list '{key}' but the model does not have it ({statement.why}). Remove it from catalog.yaml."
            )
    return problems, notes
