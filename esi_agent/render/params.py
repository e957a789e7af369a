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

"""Resolution of the params of a job.

A job's ``params`` (SPEC section 3) become the Heat stack parameters, the
Jinja2 context of its template, the stack timeout and the tenant of its
records. Outputs of other resources are read through an injected
``lookup_outputs(resource_type, resource_id)`` callable, so this module
does no I/O of its own.
"""

import collections

from esi_agent import exception
from esi_agent.i18n import _

JINJA_PREFIX = 'jinja_'
TIMEOUT_PARAM = 'heat_timeout'
TENANT_PARAM = 'tenant_id'

ResolvedParams = collections.namedtuple(
    'ResolvedParams',
    ['heat_parameters', 'jinja_parameters', 'timeout_mins', 'tenant_id'])
ResolvedParams.__doc__ = """The params of a job, sorted by destination.

``heat_parameters`` and ``jinja_parameters`` are dicts keyed by param name,
``timeout_mins`` is the stack timeout (``None`` for Heat's default) and
``tenant_id`` the tenant recorded for the resource.
"""


def output_refs(params):
    """Return the resources that ``output_key`` params of a job refer to.

    :param params: the ``params`` list of a job; ``list`` params are
        searched too.
    :returns: a list of unique ``(resource_type, resource_id)`` tuples, in
        the order they first appear.
    :raises ParamResolutionError: if an ``output_key`` param is malformed.
    """
    refs = []
    for ref in _iter_refs(params):
        if ref not in refs:
            refs.append(ref)
    return refs


def _iter_refs(params):
    for param in params:
        if param.get('type') == 'output_key':
            yield _reference(param['param'], param['value'])[:2]
        elif param.get('type') == 'list':
            yield from _iter_refs(param['value'])


def _reference(name, value):
    """Return ``(resource_type, resource_id, output_key)`` of a reference."""
    try:
        return (value['resource_type'], value['resource_id'],
                value['output_key'])
    except (KeyError, TypeError):
        raise exception.ParamResolutionError(
            param=name,
            reason=_('an output_key value must be an object with '
                     'output_key, resource_type and resource_id, not '
                     '%r') % (value,))


def resolve(job, lookup_outputs):
    """Resolve the params of ``job``.

    :param job: the job, as cast by the ESI API.
    :param lookup_outputs: ``lookup_outputs(resource_type, resource_id)``
        returns the latest ``heat_outputs`` list of a resource, or ``None``
        (or raises :class:`ParamResolutionError`) when it has no records.
    :returns: a :class:`ResolvedParams`.
    :raises ParamResolutionError: if a param cannot be resolved.
    """
    heat_parameters = {}
    jinja_parameters = {}
    timeout_mins = None
    for param in job.get('params', []):
        name = param['param']
        value = _resolve_param(name, param, lookup_outputs)
        if name.startswith(JINJA_PREFIX):
            jinja_parameters[name] = value
        elif name == TIMEOUT_PARAM:
            timeout_mins = _timeout_mins(value)
        else:
            heat_parameters[name] = value
    tenant_id = (heat_parameters.get(TENANT_PARAM) or
                 (job.get('resource_input') or {}).get('tenant_id'))
    return ResolvedParams(heat_parameters, jinja_parameters, timeout_mins,
                          tenant_id)


def _resolve_param(name, param, lookup_outputs):
    """Return the value of one param; ``name`` is used in error messages."""
    param_type = param.get('type')
    if param_type == 'value':
        return param.get('value')
    if param_type == 'output_key':
        return _output_value(name, param['value'], lookup_outputs)
    if param_type == 'list':
        return [_resolve_param('%s[%d]' % (name, index), item,
                               lookup_outputs)
                for index, item in enumerate(param['value'])]
    raise exception.ParamResolutionError(
        param=name,
        reason=_('unknown param type %r (expected value, output_key or '
                 'list)') % (param_type,))


def _output_value(name, value, lookup_outputs):
    """Return the output a reference names, from the resource's outputs."""
    resource_type, resource_id, output_key = _reference(name, value)
    outputs = lookup_outputs(resource_type, resource_id)
    if outputs is None:
        raise exception.ParamResolutionError(
            param=name,
            reason=_('%(type)s %(id)s has no heat outputs (no job_state '
                     'record)') % {'type': resource_type, 'id': resource_id})
    for output in outputs:
        if output.get('output_key') == output_key:
            return output.get('output_value')
    available = ', '.join(str(o.get('output_key')) for o in outputs)
    raise exception.ParamResolutionError(
        param=name,
        reason=_('%(type)s %(id)s has no output %(key)r (its outputs: '
                 '%(available)s)') % {'type': resource_type,
                                      'id': resource_id,
                                      'key': output_key,
                                      'available': available or _('none')})


def _timeout_mins(value):
    """Return ``heat_timeout`` as a positive number of minutes."""
    minutes = value
    if isinstance(minutes, str) and minutes.strip().isdecimal():
        minutes = int(minutes)
    if (isinstance(minutes, bool) or not isinstance(minutes, int) or
            minutes < 1):
        raise exception.ParamResolutionError(
            param=TIMEOUT_PARAM,
            reason=_('%r is not a positive whole number of minutes') %
            (value,))
    return minutes
