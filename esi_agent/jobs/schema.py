# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.
"""The JSON schema of a job (SPEC section 3) and its validation.

Validation errors name the offending field with its path, e.g.
``params[2].type: 'lookup' is not one of ['value', 'output_key', 'list']``,
because that text is what the operator reads in the job's state record.
"""

import functools
import json
import math
import re

import jsonschema

from esi_agent import exception

ACTIONS = ('create', 'modify', 'logical_delete', 'delete')
HANDLER = 'heat_worker'
PARAM_TYPES = ('value', 'output_key', 'list')

# The version guard in etcd compares versions as 20-digit strings; a 64-bit
# integer is what every consumer of the records can read back.
MAX_VERSION = 2 ** 63 - 1

# Resource types and ids become parts of etcd keys and stack names.
RESOURCE_TYPE_PATTERN = r'^[a-z][a-z0-9_]{0,63}$'
RESOURCE_ID_PATTERN = r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$'

_REFERENCE = {
    'type': 'object',
    'required': ['output_key', 'resource_type', 'resource_id'],
    'properties': {
        'output_key': {'type': 'string', 'minLength': 1},
        'resource_type': {'type': 'string',
                          'pattern': RESOURCE_TYPE_PATTERN},
        'resource_id': {'type': 'string', 'pattern': RESOURCE_ID_PATTERN},
    },
}

_PARAM = {
    'type': 'object',
    'required': ['param', 'type', 'value'],
    'properties': {
        'param': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'type': {'enum': list(PARAM_TYPES)},
        'resources': {'type': 'array'},
    },
    # Most params are plain values, settled by one test (jsonschema's
    # subschemas are costly: this halves the time of a validation).
    'if': {'properties': {'type': {'const': 'value'}}},
    'else': {'allOf': [
        {'if': {'required': ['type'],
                'properties': {'type': {'const': 'output_key'}}},
         'then': {'properties': {'value': _REFERENCE}}},
        {'if': {'required': ['type'],
                'properties': {'type': {'const': 'list'}}},
         'then': {'properties': {'value': {
             'type': 'array', 'items': {'$ref': '#/$defs/param'}}}}},
    ]},
    'allOf': [
        {'if': {'required': ['param'],
                'properties': {'param': {'const': 'heat_timeout'}}},
         'then': {'properties': {'value': {
             'type': ['integer', 'string'],
             'pattern': r'^\s*[0-9]+\s*$',
             'minimum': 1}}}},
    ],
}

JOB_SCHEMA = {
    '$schema': 'https://json-schema.org/draft/2020-12/schema',
    '$defs': {'param': _PARAM},
    'type': 'object',
    'required': ['id', 'action', 'handler', 'resource_type', 'resource_id',
                 'version', 'params'],
    'properties': {
        'id': {'type': 'string', 'minLength': 1, 'maxLength': 512},
        'action': {'enum': list(ACTIONS)},
        'handler': {'const': HANDLER},
        'resource_type': {'type': 'string',
                          'pattern': RESOURCE_TYPE_PATTERN},
        'resource_id': {'type': 'string', 'pattern': RESOURCE_ID_PATTERN},
        'version': {'type': 'integer', 'minimum': 1,
                    'maximum': MAX_VERSION},
        # The param schema itself rather than a $ref to it: resolving a
        # $ref for every param costs 15 % of a validation.
        'params': {'type': 'array', 'items': _PARAM},
        'dependency': {'type': 'array',
                       'items': {'type': 'string', 'minLength': 1}},
        'on_failure': {'type': ['string', 'null']},
        'resource_input': {'type': 'object'},
        'job_name': {'type': ['string', 'null']},
        'is_first': {'type': ['boolean', 'null']},
        'is_last': {'type': ['boolean', 'null']},
    },
}


def _is_integer(checker, instance):
    # JSON Schema counts 2.0 as an integer; a job's version must be a real
    # int, as the version guard in etcd compares integers.
    return isinstance(instance, int) and not isinstance(instance, bool)


@functools.lru_cache(maxsize=1)
def _validator():
    base = jsonschema.validators.validator_for(JOB_SCHEMA)
    base.check_schema(JOB_SCHEMA)
    cls = jsonschema.validators.extend(
        base, type_checker=base.TYPE_CHECKER.redefine('integer', _is_integer))
    return cls(JOB_SCHEMA)


def _path(error):
    parts = []
    for element in error.absolute_path:
        if isinstance(element, int):
            parts.append('[%d]' % element)
        else:
            parts.append(('.' if parts else '') + str(element))
    return ''.join(parts) or 'job'


_TYPE_NAMES = {dict: 'object', list: 'array', str: 'string', int: 'integer',
               float: 'number', bool: 'boolean', type(None): 'null'}


def _type_name(value):
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _describe(error):
    """A message naming the field and the rule, never echoing its value.

    Values are left out on purpose: a job's params and resource_input carry
    passwords, and this text goes to the state record and the log.
    """
    path, rule, instance = _path(error), error.validator, error.instance
    expected = error.validator_value
    if rule == 'required':
        missing = [k for k in expected if k not in instance]
        return '%s: missing required field %s' % (
            path, ', '.join(repr(k) for k in missing))
    if rule == 'type':
        return '%s: expected %s, got %s' % (
            path, expected if isinstance(expected, str)
            else ' or '.join(expected), _type_name(instance))
    if rule == 'enum':
        return '%s: must be one of %s' % (
            path, ', '.join(repr(v) for v in expected))
    if rule == 'const':
        return '%s: must be %r' % (path, expected)
    if rule == 'pattern':
        return '%s: must match %s' % (path, expected)
    if rule == 'minimum':
        return '%s: must be >= %s' % (path, expected)
    if rule == 'maximum':
        return '%s: must be <= %s' % (path, expected)
    if rule == 'minLength':
        return '%s: must not be empty' % path if expected == 1 else (
            '%s: must have at least %d characters' % (path, expected))
    if rule == 'maxLength':
        return '%s: must have at most %d characters' % (path, expected)
    return '%s: violates %s' % (path, rule)


def _sort_key(error):
    # Deepest error first: it names the most specific field.
    return (-len(error.absolute_path), error.validator)


def validate(job):
    """Raise :class:`InvalidJob` naming the first wrong field of ``job``.

    All errors are reported, most specific first, separated by '; '.
    """
    errors = sorted(_validator().iter_errors(job), key=_sort_key)
    if errors:
        descriptions = []
        for error in errors:
            text = _describe(error)
            if text not in descriptions:
                descriptions.append(text)
        raise exception.InvalidJob(reason='; '.join(descriptions[:5]))


def identity(job):
    """``(resource_type, resource_id)`` when usable in keys, else None.

    A job that fails validation still gets a state record when it names a
    resource this way.
    """
    if not isinstance(job, dict):
        return None
    rtype, rid = job.get('resource_type'), job.get('resource_id')
    if (isinstance(rtype, str) and re.match(RESOURCE_TYPE_PATTERN, rtype)
            and isinstance(rid, str) and re.match(RESOURCE_ID_PATTERN, rid)):
        return rtype, rid
    return None


def encode(job):
    """The job as strict UTF-8 JSON, the bytes the store keeps.

    Unlike ``json.dumps`` by default, NaN and Infinity are refused: they
    are not JSON, and the records are read by other programs.

    :raises InvalidJob: naming the first field that cannot be encoded
        (without echoing its value).
    """
    try:
        return json.dumps(job, ensure_ascii=False,
                          allow_nan=False).encode('utf-8')
    except RecursionError:
        raise exception.InvalidJob(
            reason='job: nested too deeply to be serialised as JSON')
    except (TypeError, ValueError):
        reason = _unencodable(job, []) or 'not serialisable as JSON'
        raise exception.InvalidJob(reason=reason)


def _field_path(parts):
    text = ''
    for part in parts:
        if isinstance(part, int):
            text += '[%d]' % part
        else:
            text += ('.' if text else '') + _printable(part)
    return text or 'job'


def _printable(text):
    """``text`` as is when it is valid Unicode, else escaped."""
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        return ascii(text)[1:-1]
    return text


def _unencodable(value, parts):
    """Why the value at ``parts`` cannot be strict UTF-8 JSON, or None."""
    if isinstance(value, str):
        try:
            value.encode('utf-8')
        except UnicodeEncodeError as e:
            return ('%s: text with a lone surrogate (U+%04X at index %d) is '
                    'not valid Unicode and cannot be stored as UTF-8 JSON'
                    % (_field_path(parts), ord(value[e.start]), e.start))
        return None
    if isinstance(value, float):
        if math.isfinite(value):
            return None
        return '%s: %s is not a JSON number' % (
            _field_path(parts), 'NaN' if math.isnan(value) else 'Infinity')
    if value is None or isinstance(value, (bool, int)):
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return '%s: a key of type %s is not a JSON object key' % (
                    _field_path(parts), type(key).__name__)
            why = _unencodable(key, parts + [key]) or _unencodable(
                item, parts + [key])
            if why:
                return why
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            why = _unencodable(item, parts + [index])
            if why:
                return why
        return None
    return '%s: a %s is not a JSON value' % (
        _field_path(parts), type(value).__name__)


def sanitised(value):
    """A copy of ``value`` that strict UTF-8 JSON can hold.

    For the record of a rejected job: lone surrogates become '?', NaN and
    Infinity become null, and what is not a JSON value at all becomes null
    (or a list, for a set or a tuple).
    """
    if isinstance(value, str):
        return value.encode('utf-8', 'replace').decode('utf-8')
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, dict):
        return {sanitised(str(k)): sanitised(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [sanitised(v) for v in value]
    return None
