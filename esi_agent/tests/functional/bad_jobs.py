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
"""A corpus of bad casts, and what the agent must make of each.

Every entry is a :class:`Case`: a name, the value cast to ``process_job``,
the ``worker_state`` its state record must end with (or :data:`DROPPED`
when the cast names no resource a record could be written for) and a
fragment of the expected error (the ``error`` of the state record, or the
line the agent logs when it drops the cast). A few valid jobs, some of
them odd but legal, are interleaved; their expected error is empty.

The jobs use the templates of :mod:`jobs` plus :data:`TEMPLATES` (the
template id is the resource type: there is no mapping for them) and the
mapping rules of :data:`MAPPINGS`.
"""

import collections
import copy
import uuid

from esi_agent.jobs import schema
from esi_agent.tests.functional import jobs

DROPPED = 'DROPPED'
CREATE_FAILED = 'CREATE_FAILED'
MODIFY_FAILED = 'MODIFY_FAILED'
DELETE_FAILED = 'DELETE_FAILED'
CREATE_COMPLETED = 'CREATE_COMPLETED'
MODIFY_COMPLETED = 'MODIFY_COMPLETED'
DELETE_COMPLETED = 'DELETE_COMPLETED'
READ_COMPLETE = 'READ_COMPLETE'

COMPLETED_STATES = (CREATE_COMPLETED, MODIFY_COMPLETED, DELETE_COMPLETED,
                    READ_COMPLETE)

Case = collections.namedtuple('Case', ['name', 'job', 'worker_state',
                                       'error'])

MIB = 1024 * 1024

# The index of the first param added to a job of jobs.job(), which has
# name, tenant_id and version.
EXTRA = 3

_GOOD_BODY = '''heat_template_version: 2018-08-31
resources:
  r:
    type: OS::Heat::None
'''

TEMPLATES = {
    'bad_syntax': _GOOD_BODY + '{% if %}\n',
    'bad_filter': _GOOD_BODY + '# {{ jinja_x | nosuchfilter }}\n',
    'bad_tag': _GOOD_BODY + '{% frobnicate %}\n',
    'bad_undefined': _GOOD_BODY + '# {{ jinja_missing.attr }}\n',
    'escape_mro': _GOOD_BODY + "# {{ ''.__class__.__mro__ }}\n",
    'escape_class': _GOOD_BODY + "# {{ ''.__class__ }}\n",
    'escape_cycler': _GOOD_BODY + '# {{ cycler.__init__.__globals__ }}\n',
    'escape_self': _GOOD_BODY + '# {{ self._TemplateReference__context }}\n',
    'escape_lipsum': _GOOD_BODY + '# {{ lipsum.__globals__ }}\n',
    'escape_subclasses': _GOOD_BODY +
    '# {{ ().__class__.__base__.__subclasses__() }}\n',
    'escape_format': _GOOD_BODY + "# {{ '{0.__class__}'.format(1) }}\n",
    'escape_attr_filter': _GOOD_BODY + "# {{ ''|attr('__class__') }}\n",
    'escape_param': _GOOD_BODY + '# {{ jinja_x.__class__ }}\n',
    'escape_range': _GOOD_BODY + '# {{ range(10 ** 9) | list | length }}\n',
    'yaml_list': '- heat_template_version: 2018-08-31\n- {{ 1 }}\n',
    'yaml_scalar': "{{ 'just a string' }}\n",
    'yaml_empty': '{# nothing at all #}\n',
    'yaml_invalid': 'heat_template_version: [2018-08-31\n',
    'yaml_python_tag': _GOOD_BODY +
    "x: !!python/object/apply:os.system ['true']\n",
}

# [templates] mapping_file of the test ('heat_worker' key).
MAPPINGS = {
    'mapped': 'Pflavor',
    'joined': 'ACnetwork&Pflavor',
    'nostack': {'constant': None},
}


NAN = float('nan')
INF = float('inf')

# A field value that means "without this field".
MISSING = object()


def network(**fields):
    """A valid network job with some top-level fields replaced."""
    job = jobs.network()
    return _with(job, fields)


def _with(job, fields):
    for name, value in fields.items():
        if value is MISSING:
            del job[name]
        else:
            job[name] = value
    return job


def with_param(param, rtype='network', **fields):
    """A network (or ``rtype``) job with one more param, at EXTRA."""
    job = jobs.job(rtype, params=[param])
    return _with(job, fields)


def _rid():
    return str(uuid.uuid4())


def corpus(network_id, max_job_size):
    """The corpus; ``network_id`` is a network whose records exist.

    :param max_job_size: ``[agent] max_job_size`` of the agent.

    :returns: a list of :class:`Case`, in the order to cast them.
    """
    cases = []

    def add(name, job, worker_state, error):
        cases.append(Case(name, job, worker_state, error))

    def valid(name, job, worker_state=CREATE_COMPLETED):
        add(name, job, worker_state, '')

    valid('valid network', jobs.network())

    # Required fields, one missing at a time.
    add('missing id', network(id=MISSING), CREATE_FAILED,
        "missing required field 'id'")
    add('missing action', network(action=MISSING), CREATE_FAILED,
        "missing required field 'action'")
    add('missing handler', network(handler=MISSING), CREATE_FAILED,
        "missing required field 'handler'")
    add('missing resource_type', network(resource_type=MISSING), DROPPED,
        "missing required field 'resource_type'")
    add('missing resource_id', network(resource_id=MISSING), DROPPED,
        "missing required field 'resource_id'")
    add('missing version', network(version=MISSING), CREATE_FAILED,
        "missing required field 'version'")
    add('missing params', network(params=MISSING, action='modify'),
        MODIFY_FAILED, "missing required field 'params'")

    # Wrong types and values of top-level fields.
    add('id an integer', network(id=42), CREATE_FAILED,
        'id: expected string, got integer')
    add('id empty', network(id=''), CREATE_FAILED, 'id: must not be empty')
    add('id too long', network(id='x' * 600), CREATE_FAILED,
        'id: must have at most 512 characters')
    add('action an integer', network(action=1), CREATE_FAILED,
        "action: must be one of 'create', 'modify'")
    add('unknown action', network(action='explode'), CREATE_FAILED,
        "action: must be one of 'create', 'modify'")
    add('unknown handler', network(handler='nova_worker'), CREATE_FAILED,
        "handler: must be 'heat_worker'")
    add('resource_type an integer', network(resource_type=7), DROPPED,
        'resource_type: expected string, got integer')
    add('resource_type with capitals', network(resource_type='Network'),
        DROPPED, 'resource_type: must match')
    add('resource_id with a slash', network(resource_id='a/../b'), DROPPED,
        'resource_id: must match')
    add('on_failure an integer', network(on_failure=1), CREATE_FAILED,
        'on_failure: expected string or null, got integer')
    add('is_first a string', network(is_first='yes'), CREATE_FAILED,
        'is_first: expected boolean or null, got string')

    # params.
    add('params an object', network(params={'name': 'x'}), CREATE_FAILED,
        'params: expected array, got object')
    add('params a string', network(params='name=x'), CREATE_FAILED,
        'params: expected array, got string')
    add('params null', network(params=None), CREATE_FAILED,
        'params: expected array, got null')
    add('param a string', with_param('name=x'), CREATE_FAILED,
        'params[%d]: expected object, got string' % EXTRA)
    add('param without type', with_param({'param': 'a', 'value': 1}),
        CREATE_FAILED, "params[%d]: missing required field 'type'" % EXTRA)
    add('param without name', with_param({'type': 'value', 'value': 1}),
        CREATE_FAILED, "params[%d]: missing required field 'param'" % EXTRA)
    add('param without value', with_param({'param': 'a', 'type': 'value'}),
        CREATE_FAILED, "params[%d]: missing required field 'value'" % EXTRA)
    add('param name empty', with_param(jobs.value('', 1)), CREATE_FAILED,
        'params[%d].param: must not be empty' % EXTRA)
    add('param name an integer', with_param(jobs.value(5, 1)),
        CREATE_FAILED, 'params[%d].param: expected string, got integer'
        % EXTRA)
    add('unknown param type',
        with_param({'param': 'a', 'type': 'lookup', 'value': 1}),
        CREATE_FAILED, "params[%d].type: must be one of 'value', "
        "'output_key', 'list'" % EXTRA)
    add('output_key value a string',
        with_param({'param': 'a', 'type': 'output_key', 'value': 'id'}),
        CREATE_FAILED, 'params[%d].value: expected object, got string'
        % EXTRA)
    ref = jobs.output_key('a', 'network', network_id)
    del ref['value']['resource_id']
    add('output_key without resource_id', with_param(ref), CREATE_FAILED,
        "params[%d].value: missing required field 'resource_id'" % EXTRA)
    add('output_key bad resource_type',
        with_param(jobs.output_key('a', 'Net/work', network_id)),
        CREATE_FAILED, 'params[%d].value.resource_type: must match' % EXTRA)
    add('list param value an object',
        with_param({'param': 'a', 'type': 'list', 'value': {'x': 1}}),
        CREATE_FAILED, 'params[%d].value: expected array, got object'
        % EXTRA)
    add('list param with a bad item',
        with_param({'param': 'a', 'type': 'list',
                    'value': [{'param': 'b', 'value': 1}]}),
        CREATE_FAILED, "params[%d].value[0]: missing required field 'type'"
        % EXTRA)
    add('heat_timeout zero', with_param(jobs.value('heat_timeout', 0)),
        CREATE_FAILED, 'params[%d].value: must be >= 1' % EXTRA)
    add('heat_timeout a word', with_param(jobs.value('heat_timeout', 'soon')),
        CREATE_FAILED, 'params[%d].value: must match' % EXTRA)
    add('heat_timeout "0"', with_param(jobs.value('heat_timeout', '0')),
        CREATE_FAILED, "Cannot resolve param heat_timeout: '0' is not a "
        'positive whole number of minutes')

    # dependency and resource_input.
    add('dependency a string', network(dependency='create:x'),
        CREATE_FAILED, 'dependency: expected array, got string')
    add('dependency of integers', network(dependency=[1, 2]), CREATE_FAILED,
        'dependency[0]: expected string, got integer')
    add('dependency with an empty id', network(dependency=['']),
        CREATE_FAILED, 'dependency[0]: must not be empty')
    add('resource_input a list', network(resource_input=['id']),
        CREATE_FAILED, 'resource_input: expected object, got array')
    add('resource_input a string', network(resource_input='{}'),
        CREATE_FAILED, 'resource_input: expected object, got string')

    valid('valid port', jobs.port(network_id))

    # Versions.
    add('version zero', network(version=0), CREATE_FAILED,
        'version: must be >= 1')
    add('version negative', network(version=-3, action='modify'),
        MODIFY_FAILED, 'version: must be >= 1')
    add('version a boolean', network(version=True), CREATE_FAILED,
        'version: expected integer, got boolean')
    add('version a float', network(version=1.5), CREATE_FAILED,
        'version: expected integer, got number')
    add('version a whole float', network(version=2.0), CREATE_FAILED,
        'version: expected integer, got number')
    add('version a string', network(version='1', action='delete'),
        DELETE_FAILED, 'version: expected integer, got string')
    add('version null', network(version=None), CREATE_FAILED,
        'version: expected integer, got null')
    add('version above 2**63-1', network(version=10 ** 30), CREATE_FAILED,
        'version: must be <= %d' % schema.MAX_VERSION)

    # Dependency cycles.
    a, b = jobs.network(), jobs.network()
    a['dependency'], b['dependency'] = [b['id']], [a['id']]
    add('2-cycle a', a, CREATE_FAILED, 'Dependency cycle: ')
    add('2-cycle b', b, CREATE_FAILED, 'Dependency cycle: ')
    selfish = jobs.network()
    selfish['dependency'] = [selfish['id']]
    add('self-dependency', selfish, CREATE_FAILED,
        'Dependency cycle: %s -> %s' % (selfish['id'], selfish['id']))
    x, y, z = jobs.network(), jobs.network(), jobs.network()
    x['dependency'], y['dependency'], z['dependency'] = (
        [y['id']], [z['id']], [x['id']])
    add('3-cycle x', x, CREATE_FAILED, 'Dependency cycle: ')
    add('3-cycle y', y, CREATE_FAILED, 'Dependency cycle: ')
    add('3-cycle z', z, CREATE_FAILED, 'Dependency cycle: ')

    # What never comes: the wait is bounded by [agent] dependency_timeout.
    ghost = 'create:heat_worker:network:%s:1:ghost' % _rid()
    add('dependency never cast', jobs.network(dependency=[ghost]),
        CREATE_FAILED, 'waiting for job %s (not received)' % ghost)
    nowhere = _rid()
    add('output_key to a resource never created', jobs.port(nowhere),
        CREATE_FAILED, 'waiting for the records of network %s' % nowhere)
    rejected = network(version=0)
    add('dependency rejected at intake (itself)', rejected, CREATE_FAILED,
        'version: must be >= 1')
    add('dependency rejected at intake',
        jobs.network(dependency=[rejected['id']]), CREATE_FAILED,
        rejected['id'])

    # Sizes: [agent] max_job_size is 512 KiB by default.
    assert max_job_size < MIB
    add('1 MiB param value', with_param(jobs.value('jinja_x', 'x' * MIB)),
        CREATE_FAILED, 'more than max_job_size')
    add('1 MiB job id', network(id='x' * MIB), CREATE_FAILED,
        'more than max_job_size')
    add('1 MiB resource_id', network(resource_id='x' * MIB), DROPPED,
        'more than max_job_size')
    big = jobs.network(action='modify')
    big['resource_input']['description'] = '\u00e9' * (MIB // 2)
    add('1 MiB resource_input (2-byte characters)', big, MODIFY_FAILED,
        'more than max_job_size')

    largest = jobs.network()
    largest['resource_input']['description'] = ''
    largest['resource_input']['description'] = 'x' * (
        max_job_size - len(schema.encode(largest)))
    valid('valid job of exactly max_job_size bytes', largest)
    valid('valid modify (converges into a create)',
          jobs.network(action='modify', version=2), MODIFY_COMPLETED)

    # Text that is not valid Unicode, numbers that are not JSON, odd
    # characters.
    add('lone surrogate in a param value',
        with_param(jobs.value('name2', 'abc\ud800def')), CREATE_FAILED,
        'params[%d].value: text with a lone surrogate (U+D800 at index 3)'
        % EXTRA)
    lone = network()
    lone['id'] += '\udfff'
    add('lone surrogate in the job id', lone, CREATE_FAILED,
        'id: text with a lone surrogate (U+DFFF')
    add('lone surrogate in a resource_input key',
        network(resource_input={'na\ud834me': 'x'}), CREATE_FAILED,
        'resource_input.na\\ud834me: text with a lone surrogate')
    add('lone surrogate in resource_id',
        network(resource_id=_rid() + '\ud800'), DROPPED,
        'text with a lone surrogate')
    add('NaN in a param value', with_param(jobs.value('jinja_x', NAN)),
        CREATE_FAILED, 'params[%d].value: NaN is not a JSON number' % EXTRA)
    add('Infinity in resource_input', network(resource_input={'mtu': INF}),
        CREATE_FAILED, 'resource_input.mtu: Infinity is not a JSON number')
    add('NUL in resource_id', network(resource_id=_rid() + '\x00'), DROPPED,
        'resource_id: must match')
    add('right-to-left override in resource_id',
        network(resource_id='\u202e' + _rid()), DROPPED,
        'resource_id: must match')
    add('zero-width space in resource_type',
        network(resource_type='net\u200bwork'), DROPPED,
        'resource_type: must match')
    add('zero-width and RTL characters in a param name',
        with_param(jobs.value('na\u200bme\u202e', 'x')), CREATE_FAILED,
        'The Parameter (na\u200bme\u202e) was not defined in template.')
    valid('RTL and zero-width characters in job_name and a value',
          with_param(jobs.value('jinja_x', '\u202eevil\u200b'),
                     job_name='\u202ekrowten\u200b'))
    odd_id = jobs.network()
    odd_id['id'] = '\u202e' + odd_id['id'] + '\u200b\x00'
    valid('RTL, zero-width and NUL characters in the job id', odd_id)
    valid('unknown top-level field', network(colour='blue'))

    # Templates that do not render, or not to a YAML mapping.
    rendering = [
        ('template syntax error', 'bad_syntax',
         'Cannot render Heat template bad_syntax: syntax error at line 5'),
        ('undefined filter', 'bad_filter', "No filter named 'nosuchfilter'"),
        ('unknown tag', 'bad_tag', "unknown tag 'frobnicate'"),
        ('undefined variable used', 'bad_undefined',
         "UndefinedError at line 5: 'jinja_missing' is undefined"),
        ('sandbox: str.__class__.__mro__', 'escape_mro',
         "sandbox violation at line 5: access to attribute '__class__' of "
         "'str' object is unsafe"),
        ('sandbox: str.__class__', 'escape_class',
         "attribute '__class__' of 'str' object is unsafe"),
        ('sandbox: cycler.__init__.__globals__', 'escape_cycler',
         "attribute '__init__' of 'type' object is unsafe"),
        ('sandbox: self._TemplateReference__context', 'escape_self',
         "attribute '_TemplateReference__context' of 'TemplateReference' "
         'object is unsafe'),
        ('sandbox: lipsum.__globals__', 'escape_lipsum',
         "attribute '__globals__' of 'function' object is unsafe"),
        ('sandbox: ().__class__.__base__.__subclasses__()',
         'escape_subclasses', 'sandbox violation'),
        ('sandbox: str.format attribute lookup', 'escape_format',
         "attribute '__class__' of 'int' object is unsafe"),
        ('sandbox: attr filter', 'escape_attr_filter',
         "attribute '__class__' of 'str' object is unsafe"),
        ('sandbox: attribute of a jinja_ param', 'escape_param',
         "attribute '__class__' of 'list' object is unsafe"),
        ('sandbox: huge range', 'escape_range',
         'The sandbox blocks ranges larger than MAX_RANGE'),
        ('renders to a YAML list', 'yaml_list',
         'the rendered template is not a YAML mapping (it loads as list)'),
        ('renders to a YAML scalar', 'yaml_scalar',
         'not a YAML mapping (it loads as str)'),
        ('renders to nothing', 'yaml_empty',
         'not a YAML mapping (it loads as NoneType)'),
        ('renders to invalid YAML', 'yaml_invalid',
         'the rendered template is not valid YAML'),
        ('python YAML tag', 'yaml_python_tag',
         'the rendered template is not valid YAML'),
    ]
    failed_render = None
    for name, template, error in rendering:
        job = jobs.job(template, params=[jobs.value('jinja_x', [1])])
        failed_render = failed_render or job
        add(name, job, CREATE_FAILED, error)
    add('template not found', jobs.job('no_such_template'), CREATE_FAILED,
        'Heat template no_such_template not found')
    add('output_key to a resource whose job failed',
        jobs.job('port', params=[
            jobs.output_key('virtual_network',
                            failed_render['resource_type'],
                            failed_render['resource_id']),
            jobs.value('jinja_fixed_ips', [])]),
        CREATE_FAILED, 'Dependency %s %s (job %s) failed' % (
            failed_render['resource_type'], failed_render['resource_id'],
            failed_render['id']))

    # Template mapping ([templates] mapping_file).
    add('mapping: field missing', jobs.job('mapped'), CREATE_FAILED,
        "Cannot choose the template of mapped: resource_input has no field "
        "'flavor'")
    mapped = jobs.job('mapped')
    mapped['resource_input']['flavor'] = 5
    add('mapping: template id not a string', mapped, CREATE_FAILED,
        'the template id 5 is not a string')
    joined = jobs.job('joined')
    joined['resource_input']['flavor'] = ['a']
    add('mapping: concatenation of a list', joined, CREATE_FAILED,
        "cannot concatenate Pflavor")
    valid('mapping: no stack', jobs.job('nostack'), READ_COMPLETE)

    # What Heat refuses.
    add('param Heat does not know', with_param(jobs.value('bogus', 1)),
        CREATE_FAILED,
        'The Parameter (bogus) was not defined in template. (HTTP 400)')
    unnamed = jobs.network(action='modify')
    del unnamed['params'][0]
    add('param Heat requires missing (modify)', unnamed, MODIFY_FAILED,
        'The Parameter (name) was not provided. (HTTP 400)')
    no_output = jobs.port(network_id)
    no_output['params'][EXTRA]['value']['output_key'] = 'nope'
    add('output_key to a missing output', no_output, CREATE_FAILED,
        "Cannot resolve param virtual_network: network %s has no output "
        "'nope' (its outputs: id, name)" % network_id)

    valid('valid delete of a missing stack',
          jobs.network(action='delete', version=3), DELETE_COMPLETED)
    return cases


# Casts that name no resource at all: dropped, and logged.
GARBAGE = [
    Case('a list', ['not', 'a', 'job'], DROPPED,
         'job: expected object, got array'),
    Case('a string', 'process this', DROPPED,
         'job: expected object, got string'),
    Case('a number', 42, DROPPED, 'job: expected object, got integer'),
    Case('null', None, DROPPED, 'job: expected object, got null'),
    Case('a boolean', True, DROPPED, 'job: expected object, got boolean'),
    Case('an empty object', {}, DROPPED,
         "missing required field 'id', 'action', 'handler', "
         "'resource_type', 'resource_id', 'version', 'params'"),
    Case('an object without a resource', {'id': 'garbage:1',
                                          'action': 'create'}, DROPPED,
         "missing required field 'handler', 'resource_type'"),
]


def follow_up(case):
    """A valid modify of the resource of a failed network job, or None.

    Its version is one above the failed job's, when that was a proper one.
    """
    job = case.job
    if (case.worker_state not in (CREATE_FAILED, MODIFY_FAILED,
                                  DELETE_FAILED)
            or job.get('resource_type') != 'network'):
        return None
    version = job.get('version')
    if (isinstance(version, bool) or not isinstance(version, int)
            or not 1 <= version < schema.MAX_VERSION):
        version = 0
    return jobs.network(rid=job['resource_id'], version=version + 1,
                        action='modify')


def all_cases(network_id, max_job_size):
    """The corpus and the garbage, interleaved, in casting order."""
    cases = corpus(network_id, max_job_size)
    garbage = copy.deepcopy(GARBAGE)
    step = max(1, len(cases) // (len(garbage) + 1))
    for n, case in enumerate(garbage):
        cases.insert((n + 1) * step + n, case)
    return cases
