"""What the passes share: the state they rewrite, the normal form, AST helpers."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Callable, Iterator

from ..naming import Namer
from ..parse import ParsedFunction

BINARY_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult,
                    ast.FloorDiv, ast.Mod)
UNARY_OPERATORS = (ast.USub, ast.UAdd, ast.Not)
COMPOUND = (ast.If, ast.For, ast.While)


@dataclass
class NormalState:
    """What the passes share: the function being rewritten and its name supply."""

    parsed: ParsedFunction
    body: list[ast.stmt]
    namer: Namer
    local_names: set[str] = field(default_factory=set)
    lifted: dict[str, ast.FunctionDef] = field(default_factory=dict)

    @property
    def source(self):
        return self.parsed.source

    def fresh(self, stem: str) -> str:
        name = self.namer.fresh(stem)
        self.local_names.add(name)
        return name

    def unique(self, stem: str) -> str:
        name = self.namer.unique(stem)
        self.local_names.add(name)
        return name


@dataclass(frozen=True)
class NormalForm:
    """The function in the core grammar (see the module docstring)."""

    parsed: ParsedFunction
    body: tuple[ast.stmt, ...]
    namer: Namer
    local_names: frozenset[str] = frozenset()
    lifted: dict = field(default_factory=dict)   # name -> ast.FunctionDef (lambda-lifted)

    @property
    def result(self) -> str:
        return self.body[-1].value.id

    def dump(self) -> str:
        """The normal form as Python text, for inspection and golden tests."""
        return "\n".join(ast.unparse(statement) for statement in self.body)



def is_global_path(node: ast.expr, local_names: set[str]) -> bool:
    """``np.linalg.norm`` or ``math.pi``: a dotted name rooted outside the function."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id not in local_names


def keep_marks(new: ast.stmt, old: ast.stmt) -> ast.stmt:
    """Carry what a pass noted on a statement (``s2s_augmented``) to its rewritten form."""
    if getattr(old, "s2s_augmented", False):
        new.s2s_augmented = True                  # type: ignore[attr-defined]
    return new


def is_index_expression(node: ast.AST) -> bool:
    """``np.s_[...]``: slice syntax written as a value (by users, and by the normal form,
    which passes an index that holds slices that way)."""
    return isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) \
        and node.value.attr == "s_" and isinstance(node.value.value, ast.Name) \
        and node.value.value.id == "np"


def located(node: ast.AST, like: ast.AST) -> ast.AST:
    return ast.fix_missing_locations(ast.copy_location(node, like))


def name(identifier: str, like: ast.AST, store: bool = False) -> ast.Name:
    return located(ast.Name(identifier, ast.Store() if store else ast.Load()), like)


def assign(target: str, value: ast.expr, like: ast.AST) -> ast.Assign:
    return located(ast.Assign([name(target, like, store=True)], value), like)


def map_blocks(body: list[ast.stmt],
                rewrite: Callable[[ast.stmt], list[ast.stmt]]) -> list[ast.stmt]:
    """Apply ``rewrite`` to every statement, recursing into compound statements first."""
    result = []
    for statement in body:
        if isinstance(statement, COMPOUND):
            statement.body = map_blocks(statement.body, rewrite)
            statement.orelse = map_blocks(statement.orelse, rewrite)
        result.extend(rewrite(statement))
    return result


def walk_statements(body) -> Iterator[ast.stmt]:
    """Every statement of a block, nested ones included, in program order."""
    for statement in body:
        yield statement
        if isinstance(statement, COMPOUND):
            yield from walk_statements(statement.body)
            yield from walk_statements(statement.orelse)


def assigned_in(body) -> set[str]:
    """Names a block may assign (targets, loop variables, subscript-written arrays)."""
    names = set()
    for statement in walk_statements(body):
        if isinstance(statement, ast.Assign):
            target = statement.targets[0]
            names.add(target.id if isinstance(target, ast.Name) else target.value.id)
        elif isinstance(statement, ast.For):
            names.add(statement.target.id)
        elif isinstance(statement, ast.Expr) and is_append(statement.value):
            names.add(statement.value.func.value.id)
    return names


def rebound_in(body) -> set[str]:
    """Names a block may bind to a new object (not those only changed in place)."""
    names = set()
    for statement in walk_statements(body):
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
            if not getattr(statement, "s2s_augmented", False):   # y += e: in place on arrays
                names.add(statement.targets[0].id)
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            names.add(statement.target.id)
        elif isinstance(statement, ast.Assign):
            names |= {node.id for target in statement.targets for node in ast.walk(target)
                      if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
        elif isinstance(statement, ast.For):
            names |= {node.id for node in ast.walk(statement.target)
                      if isinstance(node, ast.Name)}
    return names


def is_append(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
        and node.func.attr == "append" and isinstance(node.func.value, ast.Name)



def is_lambda_assignment(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
        and isinstance(statement.targets[0], ast.Name) and isinstance(statement.value, ast.Lambda)
