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
"""Small jobs and templates of the project's own, for functional tests."""

import os
import uuid

NETWORK_TEMPLATE = '''heat_template_version: 2018-08-31
parameters:
  name:
    type: string
  tenant_id:
    type: string
  version:
    type: number
resources:
  net:
    type: OS::Heat::Value
    properties:
      value: { get_param: name }
outputs:
  id:
    description: A unique id for the network.
    value: { get_resource: net }
  name:
    description: The name of the network.
    value: { get_attr: [net, value] }
'''

PORT_TEMPLATE = '''heat_template_version: 2018-08-31
parameters:
  name:
    type: string
  virtual_network:
    type: string
  tenant_id:
    type: string
  version:
    type: number
resources:
  vmi:
    type: OS::Heat::Value
    properties:
      value: { get_param: virtual_network }
{% for ip in jinja_fixed_ips %}
  ip_{{ loop.index0 }}:
    type: OS::Heat::Value
    properties:
      value: {{ ip }}
{% endfor %}
outputs:
  id:
    description: A unique id for the port.
    value: { get_resource: vmi }
'''

TENANT = 'c583ce78843344adbe5fd20f13620274'


def write_templates(directory, **extra):
    templates = {'network': NETWORK_TEMPLATE, 'port': PORT_TEMPLATE}
    templates.update(extra)
    for name, body in templates.items():
        with open(os.path.join(directory, name + '.yaml'), 'w') as f:
            f.write(body)


def value(name, val):
    return {'param': name, 'type': 'value', 'value': val, 'resources': []}


def output_key(name, rtype, rid, key='id'):
    return {'param': name, 'type': 'output_key', 'resources': [],
            'value': {'output_key': key, 'resource_type': rtype,
                      'resource_id': rid}}


def job(rtype, rid=None, version=1, action='create', params=(),
        dependency=(), **extra):
    rid = rid or str(uuid.uuid4())
    body = {
        'id': '%s:heat_worker:%s:%s:%d:%s' % (
            action, rtype, rid, version, uuid.uuid4().hex[:5]),
        'action': action,
        'handler': 'heat_worker',
        'resource_type': rtype,
        'resource_id': rid,
        'version': version,
        'params': [value('name', rid), value('tenant_id', TENANT),
                   value('version', version)] + list(params),
        'dependency': list(dependency),
        'on_failure': 'fail',
        'resource_input': {'id': rid, 'tenant_id': TENANT},
        'job_name': '%s:%s:%d' % (rtype, rid, version),
        'is_first': True,
        'is_last': True,
    }
    body.update(extra)
    return body


def network(**kw):
    return job('network', **kw)


def port(network_id, ips=('10.0.0.5',), **kw):
    params = [output_key('virtual_network', 'network', network_id),
              value('jinja_fixed_ips', list(ips))]
    return job('port', params=params + list(kw.pop('params', ())), **kw)


def networks_with_ports(networks, ports_each=2):
    """``networks`` network jobs, each followed by its ports' jobs."""
    made = []
    for _ in range(networks):
        net = network()
        made += [net] + [port(net['resource_id']) for _ in range(ports_each)]
    return made
