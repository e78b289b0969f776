"""The wandb client's MongoDB-style run filters and orders (`api.runs(path, filters=...,
order=...)`), in the field names the client and the W&B web app send, translated to the
run-query tree. In that vocabulary `name` is the run's id and `display_name` its name."""

from datetime import UTC, datetime

from .nodes import (
    MAX_DEPTH,
    MAX_NODES,
    And,
    Compare,
    Exists,
    HasTag,
    In,
    Not,
    Or,
    QueryError,
    Regex,
)

FIELDS = {
    "state": "state",
    "tags": "tags",
    "display_name": "name",
    "displayName": "name",
    "name": "run_id",
    "id": "run_id",
    "username": "author",
    "group": "group",
    "jobType": "job_type",
    "job_type": "job_type",
    "createdAt": "created_at",
    "created_at": "created_at",
    "heartbeatAt": "heartbeat_at",
    "heartbeat_at": "heartbeat_at",
    "runtime": "runtime",
    "duration": "runtime",
    "sweep": "sweep",
}
DATE_FIELDS = {"created_at", "heartbeat_at"}
PREFIXES = {"config.": "config", "summary_metrics.": "summary"}
COMPARISONS = {"$eq": "=", "$ne": "!=", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
OPERATORS = (*COMPARISONS, "$in", "$nin", "$regex", "$options", "$exists", "$not")


def field_name(key) -> str:
    """The query field of a client's field name; QueryError for one Teamsite does not know."""
    if not isinstance(key, str):
        raise QueryError("Field names must be text.")
    if key in FIELDS:
        return FIELDS[key]
    for prefix, column in PREFIXES.items():
        if key.startswith(prefix) and len(key) > len(prefix):
            name = key.removeprefix(prefix)
            if column == "config":
                # The web app addresses config values as the client stores them: {"value": ...}.
                name = name.removesuffix(".value") or name
            return f"{column}.{name}"
    raise QueryError(f"Filtering runs by “{key}” is not supported.")


def from_mongo(filters):
    """The query of a filters object: its conditions all hold."""
    translator = _Translator()
    return translator.document(filters, 0)


def parse_order(order: str | None) -> tuple[str, bool]:
    """(field, descending) of an order such as "-created_at" or "+summary_metrics.loss"."""
    order = (order or "-created_at").strip()
    descending = order.startswith("-")
    name = order.lstrip("+-")
    if name == "tags":
        raise QueryError("Ordering runs by “tags” is not supported.")
    try:
        return field_name(name), descending
    except QueryError:
        raise QueryError(f"Ordering runs by “{name}” is not supported.") from None


class _Translator:
    def __init__(self):
        self.nodes = 0

    def count(self, depth):
        self.nodes += 1
        if depth > MAX_DEPTH:
            raise QueryError(f"The filters are nested deeper than {MAX_DEPTH} levels.")
        if self.nodes > MAX_NODES:
            raise QueryError(f"The filters have more than {MAX_NODES} conditions.")

    def document(self, filters, depth):
        self.count(depth)
        if not isinstance(filters, dict):
            raise QueryError("Filters must be a JSON object.")
        items = []
        for key, value in filters.items():
            if key in ("$and", "$or", "$nor"):
                if not isinstance(value, list) or not value:
                    raise QueryError(f"{key} takes a non-empty list of filters.")
                parts = tuple(self.document(part, depth + 1) for part in value)
                items.append(
                    And(parts) if key == "$and" else Or(parts) if key == "$or" else Not(Or(parts))
                )
            elif key == "$not":
                items.append(Not(self.document(value, depth + 1)))
            elif isinstance(key, str) and key.startswith("$"):
                raise QueryError(f"The operator “{key}” is not supported here.")
            else:
                field = field_name(key)
                try:
                    items.append(self.condition(field, value, depth + 1))
                except QueryError as error:
                    raise QueryError(f"{key}: {error}") from None
        return items[0] if len(items) == 1 else And(tuple(items))

    def condition(self, field, value, depth):
        self.count(depth)
        if not (isinstance(value, dict) and value and all(str(k).startswith("$") for k in value)):
            if isinstance(value, (dict, list)):
                raise QueryError(
                    f"{field} compares to a value or an object of operators such as $gt."
                )
            return self.compare(field, "$eq", value)
        unknown = [key for key in value if key not in OPERATORS]
        if unknown:
            raise QueryError(f"The operator “{unknown[0]}” is not supported.")
        if "$options" in value and "$regex" not in value:
            raise QueryError("$options goes with $regex.")
        items = []
        for op, operand in value.items():
            if op in COMPARISONS:
                items.append(self.compare(field, op, operand))
            elif op in ("$in", "$nin"):
                items.append(self.members(field, op, operand))
            elif op == "$regex":
                items.append(self.regex(field, operand, value.get("$options", "")))
            elif op == "$exists":
                if not isinstance(operand, bool):
                    raise QueryError("$exists takes true or false.")
                items.append(Exists(field, operand))
            elif op == "$not":
                if isinstance(operand, str):
                    items.append(Not(self.regex(field, operand, "")))
                else:
                    items.append(Not(self.condition(field, operand, depth + 1)))
        return items[0] if len(items) == 1 else And(tuple(items))

    def compare(self, field, op, operand):
        operand = self.value(field, op, operand)
        if field == "tags":
            if op not in ("$eq", "$ne"):
                raise QueryError(f"Tags take $eq, $ne, $in or $nin, not {op}.")
            tag = HasTag(operand) if isinstance(operand, str) else self.refuse_tag(operand)
            return tag if op == "$eq" else Not(tag)
        return Compare(field, COMPARISONS[op], operand)

    def refuse_tag(self, operand):
        raise QueryError("A tag must be text.")

    def members(self, field, op, operand):
        if not isinstance(operand, list):
            raise QueryError(f"{op} takes a list of values.")
        self.nodes += len(operand)
        if self.nodes > MAX_NODES:
            raise QueryError(f"The filters have more than {MAX_NODES} conditions.")
        values = tuple(self.value(field, op, item) for item in operand)
        return In(field, values, negate=op == "$nin")

    def regex(self, field, pattern, options):
        if not isinstance(pattern, str):
            raise QueryError("$regex takes a regular expression as text.")
        if options not in ("", "i"):
            raise QueryError("$options supports only “i” (ignore case).")
        return Regex(field, f"(?i){pattern}" if options else pattern)

    def value(self, field, op, operand):
        if isinstance(operand, (dict, list)):
            raise QueryError(f"{op} on {field} takes a single value, not a list or object.")
        if field in DATE_FIELDS and operand is not None:
            return parse_date(operand, field)
        return operand


def parse_date(value, field) -> datetime:
    if not isinstance(value, str):
        raise QueryError(f"{field} compares to dates such as “2026-11-01T00:00:00”.")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise QueryError(f"“{value[:40]}” is not a date such as “2026-11-01T00:00:00”.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
