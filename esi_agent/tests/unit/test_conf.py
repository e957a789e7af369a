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

"""Unit tests of :mod:`esi_agent.conf` and its oslo-config-generator hook."""

import importlib.metadata
import os

import fixtures
from oslo_config import cfg
from oslo_config import generator

from esi_agent.conf import agent
from esi_agent.conf import default
from esi_agent.conf import etcd
from esi_agent.conf import heat
from esi_agent.conf import opts
from esi_agent.conf import templates
from esi_agent.tests import base

CONF = base.CONF

# The options esi-agent defines itself (not keystoneauth's), by group.
OWN_OPTS = {'DEFAULT': default.opts, 'agent': agent.opts, 'etcd': etcd.opts,
            'heat': heat.opts, 'templates': templates.opts}


def _name(group):
    return group if isinstance(group, str) else group.name


class TestListOpts(base.TestCase):

    def setUp(self):
        super().setUp()
        self.listed = {_name(group): list(group_opts)
                       for group, group_opts in opts.list_opts()}

    def test_groups(self):
        groups = [_name(group) for group, _ in opts.list_opts()]
        self.assertEqual(['DEFAULT', 'agent', 'etcd', 'heat', 'templates'],
                         groups)

    def test_own_options_listed(self):
        for group, own in OWN_OPTS.items():
            for opt in own:
                self.assertIn(opt, self.listed[group],
                              '%s.%s' % (group, opt.dest))

    def test_every_own_option_has_help(self):
        for group, own in OWN_OPTS.items():
            self.assertNotEqual([], own)
            for opt in own:
                self.assertTrue(opt.help and opt.help.strip(),
                                '[%s] %s has no help' % (group, opt.dest))

    def test_every_group_has_help(self):
        for group, _ in opts.list_opts():
            if isinstance(group, cfg.OptGroup):
                self.assertTrue(group.help and group.help.strip(),
                                '[%s] has no help' % group.name)

    def test_no_duplicate_options(self):
        for group, group_opts in self.listed.items():
            dests = [opt.dest for opt in group_opts]
            self.assertEqual(sorted(set(dests)), sorted(dests), group)

    def test_secrets(self):
        by_dest = {g: {o.dest: o for o in group_opts}
                   for g, group_opts in self.listed.items()}
        self.assertTrue(by_dest['etcd']['cert_key'].secret)
        self.assertTrue(by_dest['heat']['password'].secret)
        self.assertFalse(by_dest['etcd']['cert_cert'].secret)
        self.assertFalse(by_dest['heat']['username'].secret)

    def test_contract_options(self):
        # SPEC section 6: the names an operator sets.
        expected = {
            'DEFAULT': ['host'],
            'agent': ['rpc_topic'],
            'etcd': ['host', 'port', 'protocol', 'ca_cert', 'cert_key',
                     'cert_cert', 'timeout'],
            'heat': ['auth_type', 'auth_url', 'endpoint_override',
                     'region_name', 'valid_interfaces', 'username',
                     'password', 'project_name', 'user_domain_name',
                     'project_domain_name', 'cafile', 'timeout'],
            'templates': ['mapping_file', 'template_dir'],
        }
        for group, names in expected.items():
            dests = [opt.dest for opt in self.listed[group]]
            for name in names:
                self.assertIn(name, dests, '[%s] %s' % (group, name))

    def test_registered_defaults(self):
        self.assertEqual('esi-agent', CONF.agent.rpc_topic)
        self.assertEqual(2379, CONF.etcd.port)
        self.assertEqual('http', CONF.etcd.protocol)
        self.assertIsNone(CONF.etcd.cert_key)
        self.assertIsNone(CONF.templates.mapping_file)
        # keystoneauth's [heat] options are registered, the deprecated
        # ``interface`` included.
        self.assertIsNone(CONF.heat.endpoint_override)
        self.assertIsNone(CONF.heat.interface)
        self.assertIsNone(CONF.heat.auth_type)

    def test_listed_service_type_default(self):
        # The sample configuration shows the default the agent uses.
        [service_type] = [o for o in self.listed['heat']
                          if o.dest == 'service_type']
        self.assertEqual('orchestration', service_type.default)


class TestEntryPoint(base.TestCase):

    def entry_point(self):
        found = [ep for ep in importlib.metadata.entry_points(
            group='oslo.config.opts') if ep.name == 'esi-agent']
        self.assertEqual(1, len(found), found)
        return found[0]

    def test_resolves_to_list_opts(self):
        ep = self.entry_point()
        self.assertEqual('esi_agent.conf.opts:list_opts', ep.value)
        self.assertIs(opts.list_opts, ep.load())

    def test_generator_writes_sample(self):
        # What oslo-config-generator --namespace esi-agent does.
        out = os.path.join(self.useFixture(fixtures.TempDir()).path,
                           'esi-agent.conf')
        conf = cfg.ConfigOpts()
        generator.register_cli_opts(conf)
        conf(['--namespace', 'esi-agent', '--output-file', out])

        generator.generate(conf)

        with open(out, encoding='utf-8') as f:
            sample = f.read()
        for section in ('[DEFAULT]', '[agent]', '[etcd]', '[heat]',
                        '[templates]'):
            self.assertIn(section, sample)
        self.assertIn('#rpc_topic = esi-agent', sample)
        self.assertIn('#cert_key = <None>', sample)
        self.assertIn('#host = localhost', sample)
