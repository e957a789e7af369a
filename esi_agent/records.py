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
"""The three records of SPEC section 5, built from a job and its stack.

Pure functions only: what goes into etcd and under which key. Writing them
(in one transaction, guarded by version) is :mod:`esi_agent.jobs.store`'s
job.
"""

import json

from esi_agent.jobs import schema

HEAT_STACKS_PREFIX = '/esi-worker/heat_stacks/v2.0/'
JOB_STATE_PREFIX = '/esi-worker/job_state/v2.0/'
STATE_PREFIX = '/state/v2.0/'

_WORKER_VERB = {
    'create': 'CREATE',
    'modify': 'MODIFY',
    'logical_delete': 'DELETE',
    'delete': 'DELETE',
}

READ_COMPLETE = 'READ_COMPLETE'
DELETE_COMPLETE = 'DELETE_COMPLETE'


def plural(resource_type):
    return '%ss' % resource_type


def resource_path(resource_type, resource_id):
    return '%s/%s' % (plural(resource_type), resource_id)


def heat_stacks_key(resource_type, resource_id):
    return HEAT_STACKS_PREFIX + resource_path(resource_type, resource_id)


def job_state_key(resource_type, resource_id):
    return JOB_STATE_PREFIX + resource_path(resource_type, resource_id)


def state_key(resource_type, resource_id):
    return STATE_PREFIX + resource_path(resource_type, resource_id)


def is_delete(action):
    return action in ('logical_delete', 'delete')


def worker_state(action, succeeded):
    """``CREATE_COMPLETED``, ``MODIFY_FAILED``, ... for a job action."""
    verb = _WORKER_VERB.get(action if isinstance(action, str) else None,
                            'CREATE')
    return '%s_%s' % (verb, 'COMPLETED' if succeeded else 'FAILED')


def tenant_id(job):
    """The job's ``tenant_id`` param, else ``resource_input.tenant_id``."""
    for param in job.get('params') or ():
        if (isinstance(param, dict) and param.get('param') == 'tenant_id'
                and param.get('type', 'value') == 'value'
                and param.get('value')):
            return param['value']
    resource_input = job.get('resource_input')
    if isinstance(resource_input, dict):
        return resource_input.get('tenant_id')
    return None


def stack_records(job, stack_name, stack_status, status_reason, outputs):
    """The three records of a job whose stack reached a terminal status.

    :param stack_status: Heat's status, e.g. ``CREATE_COMPLETE``.
    :param outputs: the stack outputs, ``[{output_key, output_value,
        description}]`` (ignored after a completed delete).
    :returns: dict of etcd key to record.
    """
    rtype, rid = job['resource_type'], job['resource_id']
    succeeded = stack_status.endswith('_COMPLETE')
    deleted = is_delete(job['action']) and stack_status == DELETE_COMPLETE
    if deleted:
        stack_name, status_reason, outputs = '', '', []
    outputs = list(outputs or [])
    return {
        heat_stacks_key(rtype, rid): {
            'stack_id': stack_name,
            'tenant_id': tenant_id(job),
            'stack_status': stack_status,
            'output': outputs,
            'status_reason': status_reason or '',
            'id': '%s:%s' % (rtype, rid),
        },
        job_state_key(rtype, rid): {
            'heat_outputs': outputs,
            'orchestration_state': stack_status,
        },
        state_key(rtype, rid): {
            'state': {
                'worker_state': worker_state(job['action'], succeeded),
                'heat_outputs': json.dumps(outputs),
                'orchestration_state': stack_status,
            },
            'version': job['version'],
            'error': '' if succeeded else (status_reason or stack_status),
        },
    }


def read_complete_record(job):
    """The only record of a job whose template mapping says "no stack"."""
    return {state_key(job['resource_type'], job['resource_id']): {
        'state': {'worker_state': READ_COMPLETE},
        'version': job['version'],
        'error': '',
    }}


def rejected_record(job, error):
    """The state record of a job the agent refused before reaching Heat.

    ``job`` may be malformed; it must at least name a resource type and
    id. The version is kept only when it is a proper one.
    """
    version = job.get('version')
    if (isinstance(version, bool) or not isinstance(version, int)
            or not 1 <= version <= schema.MAX_VERSION):
        # An out-of-range version would become the one the guard of later
        # versions compares to (read back from this record).
        version = None
    return {state_key(job['resource_type'], job['resource_id']): {
        'state': {'worker_state': worker_state(job.get('action'), False)},
        'version': version,
        'error': str(error),
    }}
