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
"""From a job to what is sent to Heat: params, template choice, rendering."""

import collections

from esi_agent.heat import stacks
from esi_agent.render import mapping
from esi_agent.render import params
from esi_agent.render import templates

StackRequest = collections.namedtuple('StackRequest', [
    'name', 'template_id', 'template', 'parameters', 'timeout_mins',
    'tenant_id'])


def build(job, mappings, source, lookup_outputs, default_timeout):
    """The stack request of a create/modify job, or None for "no stack".

    :param mappings: the ``heat_worker`` template mapping.
    :param source: a :class:`templates.TemplateSource`.
    :param lookup_outputs: callable(resource_type, resource_id) -> outputs.
    :param default_timeout: timeout_mins when the job has no heat_timeout.
    :raises: esi_agent.exception.JobError with a readable message.
    """
    template_id = mapping.template_id(mappings, job['resource_type'],
                                      job.get('resource_input') or {})
    if template_id is None:
        return None
    resolved = params.resolve(job, lookup_outputs)
    body = source.get(template_id)
    text = templates.render(template_id, body, resolved.jinja_parameters)
    templates.check_rendered(template_id, text)
    return StackRequest(
        name=stacks.stack_name(job['resource_type'], job['resource_id']),
        template_id=template_id,
        template=text,
        parameters=resolved.heat_parameters,
        timeout_mins=resolved.timeout_mins or default_timeout,
        tenant_id=resolved.tenant_id)
