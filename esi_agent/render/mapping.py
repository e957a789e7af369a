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

"""The choice of the Heat template of a job.

A mapping file (``[templates] mapping_file``) maps, under its
``heat_worker`` key, a resource type to a rule that yields the template id
from the resource (the job's ``resource_input``). A rule is either a string
of the mapping mini-language:

``C<text>``
    the constant ``<text>``;
``P<field>``
    the value of ``resource_input[<field>]``;
``A<part>&<part>...``
    the concatenation of ``C`` and ``P`` parts, each of which must be a
    string: ``ACese_device_&Pexisting`` gives ``ese_device_existing`` for
    ``{"existing": "existing"}``;

or an object:

``{"constant": <value>}`` or ``{"field": <field>}``
    as ``C`` and ``P``, where a constant may be any JSON value;
a condition
    ``{"if_mapping": {<test>: [<a>, <b>]}, "then_mapping": <rule>,
    "else_mapping": <rule>}`` yields the value of ``then_mapping`` if the
    test holds, else that of ``else_mapping``. The operands ``<a>`` and
    ``<b>`` are rules. ``equal`` tests ``a == b``; ``regexp`` tests
    ``re.match(b, a)``: the regular expression ``b`` must match at the
    start of the string ``a``, not necessarily all of it (end ``b`` with
    ``$`` to anchor it).

A rule that yields ``None`` means that the resource has no stack.
"""

import json
import re

from esi_agent import exception
from esi_agent.i18n import _

MAPPING_KEY = 'heat_worker'


class _InvalidRule(Exception):
    """A rule cannot be evaluated; the message says why."""


def load_mappings(path):
    """Return the ``heat_worker`` mappings of a mapping file.

    :param path: the JSON mapping file, or ``None`` for no mappings.
    :returns: a dict of rules keyed by resource type.
    :raises ValueError: if the file cannot be read or is not a mapping file.
    """
    if path is None:
        return {}
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(_('Cannot load the template mapping file %(path)s: '
                           '%(error)s') % {'path': path, 'error': e})
    mappings = data.get(MAPPING_KEY) if isinstance(data, dict) else None
    if not isinstance(mappings, dict):
        raise ValueError(_('The template mapping file %(path)s has no '
                           '"%(key)s" object') % {'path': path,
                                                  'key': MAPPING_KEY})
    return mappings


def template_id(mappings, resource_type, resource_input):
    """Return the id of the Heat template of a resource.

    :param mappings: rules keyed by resource type, see
        :func:`load_mappings`.
    :param resource_type: the job's ``resource_type``.
    :param resource_input: the job's ``resource_input``.
    :returns: the template id, ``resource_type`` itself if ``mappings`` has
        no rule for it, or ``None`` if the resource has no stack.
    :raises TemplateMappingError: if the rule cannot be evaluated or does
        not yield a string or ``None``.
    """
    if resource_type not in mappings:
        return resource_type
    try:
        result = _evaluate(mappings[resource_type], resource_input)
        if result is not None and not isinstance(result, str):
            raise _InvalidRule(_('the template id %r is not a string') %
                               (exception.mask_secrets(result),))
    except _InvalidRule as e:
        raise exception.TemplateMappingError(resource_type=resource_type,
                                             reason=str(e))
    return result


def _evaluate(rule, resource_input):
    """Return the value of a rule of any form."""
    if isinstance(rule, str):
        return _evaluate_string(rule, resource_input)
    if isinstance(rule, dict):
        if 'if_mapping' in rule:
            return _evaluate_condition(rule, resource_input)
        if 'constant' in rule:
            return rule['constant']
        if 'field' in rule:
            return _field(rule['field'], resource_input)
    raise _InvalidRule(_('unknown mapping %r') % (rule,))


def _evaluate_string(rule, resource_input):
    """Return the value of a rule of the mini-language."""
    kind, text = rule[:1], rule[1:]
    if kind == 'A':
        return ''.join(_concatenation_part(part, resource_input)
                       for part in text.split('&'))
    if kind == 'C':
        return text
    if kind == 'P':
        return _field(text, resource_input)
    raise _InvalidRule(_('unknown mapping %r (it must start with C, P or '
                         'A)') % (rule,))


def _concatenation_part(part, resource_input):
    """Return the value of one part of an ``A`` rule, a string."""
    if part[:1] not in ('C', 'P'):
        raise _InvalidRule(_('unknown part %r of a concatenation (it must '
                             'start with C or P)') % (part,))
    value = _evaluate_string(part, resource_input)
    if not isinstance(value, str):
        raise _InvalidRule(_('cannot concatenate %(part)s: its value '
                             '%(value)r is not a string') %
                           {'part': part,
                            'value': exception.mask_secrets(value)})
    return value


def _field(name, resource_input):
    """Return the field ``name`` of the resource."""
    if name not in resource_input:
        raise _InvalidRule(_('resource_input has no field %r') % (name,))
    return resource_input[name]


def _evaluate_condition(rule, resource_input):
    """Return the value of an ``if_mapping`` rule."""
    for branch in ('then_mapping', 'else_mapping'):
        if branch not in rule:
            raise _InvalidRule(_('the if_mapping rule has no %s') % branch)
    test, operands = _test(rule['if_mapping'])
    first, second = (_operand(operand, resource_input)
                     for operand in operands)
    if test == 'equal':
        holds = first == second
    else:
        holds = _regexp_matches(first, second)
    branch = 'then_mapping' if holds else 'else_mapping'
    return _evaluate(rule[branch], resource_input)


def _operand(rule, resource_input):
    """The value of an if_mapping operand; None for an absent field.

    A resource that lacks the field (or has it null) simply does not match,
    as it would not in the API that wrote the rule: a port without a
    device_owner is a port.
    """
    if (isinstance(rule, dict) and set(rule) == {'field'}
            and rule['field'] not in resource_input):
        return None
    return _evaluate(rule, resource_input)


def _test(condition):
    """Return the test (``equal`` or ``regexp``) and the two operands."""
    if isinstance(condition, dict) and len(condition) == 1:
        test, operands = next(iter(condition.items()))
        if (test in ('equal', 'regexp') and isinstance(operands, list) and
                len(operands) == 2):
            return test, operands
    raise _InvalidRule(_('unknown if_mapping %r (expected {"equal" or '
                         '"regexp": [a, b]})') % (condition,))


def _regexp_matches(string, pattern):
    """Return whether ``pattern`` matches at the start of ``string``."""
    if string is None:
        return False
    if not isinstance(string, str) or not isinstance(pattern, str):
        raise _InvalidRule(_('regexp needs a string and a pattern, not '
                             '%(string)r and %(pattern)r') %
                           {'string': exception.mask_secrets(string),
                            'pattern': exception.mask_secrets(pattern)})
    try:
        return re.match(pattern, string) is not None
    except re.error as e:
        raise _InvalidRule(_('invalid regexp %(pattern)r: %(error)s') %
                           {'pattern': pattern, 'error': e})
