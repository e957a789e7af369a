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


"""The DevStack plugin (``devstack/``), run against stubbed DevStack.

Each test sources ``devstack/settings`` and then ``devstack/plugin.sh
<mode> [<phase>]`` in bash, the way stack.sh, unstack.sh and clean.sh do,
with DevStack's functions replaced by stubs that record their calls (one
line per call, arguments separated by tabs), and checks what each phase
calls. Files the plugin copies or removes are real, in a temporary
directory.
"""

import configparser
import importlib.metadata
import os
import pwd
import shutil
import subprocess

import fixtures
from oslo_config import cfg

from esi_agent.conf import etcd
from esi_agent.conf import templates
from esi_agent.tests import base

ROOT = os.path.abspath(os.path.join(
    os.path.dirname(__file__), '..', '..', '..'))

# What DevStack provides, reduced to what the plugin uses. Every stub of a
# function the plugin calls records the call.
STUBS = r'''
_record() {
    local first=$1
    shift
    {
        printf '%s' "$first"
        local arg
        for arg in "$@"; do
            printf '\t%s' "$arg"
        done
        printf '\n'
    } >> "$ESI_TEST_CALLS"
}
for _stub in iniset iniset_rpc_backend create_service_user run_process \
        stop_process setup_develop pip_install setup_logging echo_summary \
        define_plugin plugin_requires install_package; do
    eval "$_stub() { _record $_stub \"\$@\"; }"
done
enable_service() {
    _record enable_service "$@"
    ENABLED_SERVICES+=",$*"
}
is_service_enabled() {
    local service
    for service in "$@"; do
        [[ ",$ENABLED_SERVICES," == *",$service,"* ]] && return 0
    done
    return 1
}
die() {
    _record die "$@"
    exit 1
}
trueorfalse() {
    local value=${!2:-$1}
    case "$value" in
        1|yes|Yes|YES|true|True|TRUE|on|On|ON) echo True ;;
        *) echo False ;;
    esac
}
get_python_exec_prefix() {
    echo /stub/bin
}
sudo() {
    _record sudo "$@"
    "$@"
}
_python() {
    _record python "$@"
}
'''

# How DevStack runs a plugin: settings first, then plugin.sh, errexit on.
HARNESS = r'''
set -o errexit
source "$ESI_TEST_STUBS"
source "$ESI_TEST_ROOT/devstack/settings"
if [[ -n "$ESI_TEST_DISABLE" ]]; then
    ENABLED_SERVICES=${ENABLED_SERVICES//,$ESI_TEST_DISABLE/}
fi
source "$ESI_TEST_ROOT/devstack/plugin.sh" "$@"
'''


class DevstackPluginTest(base.TestCase):

    def setUp(self):
        super().setUp()
        if shutil.which('bash') is None:
            self.skipTest('bash is not installed')
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.conf_dir = os.path.join(self.tmp, 'etc', 'esi-agent')
        self.conf_file = os.path.join(self.conf_dir, 'esi-agent.conf')
        self.calls_file = os.path.join(self.tmp, 'calls')
        stubs = os.path.join(self.tmp, 'stubs.sh')
        with open(stubs, 'w') as f:
            f.write(STUBS)
        self.harness = os.path.join(self.tmp, 'harness.sh')
        with open(self.harness, 'w') as f:
            f.write(HARNESS)
        self.env = {
            'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
            'ESI_TEST_ROOT': ROOT,
            'ESI_TEST_STUBS': stubs,
            'ESI_TEST_CALLS': self.calls_file,
            'ESI_TEST_DISABLE': '',
            # DevStack's globals (stackrc, lib/keystone, inc/python).
            'DEST': os.path.join(self.tmp, 'opt-stack'),
            'ESI_AGENT_DIR': ROOT,
            'ESI_AGENT_CONF_DIR': self.conf_dir,
            'ENABLED_SERVICES': 'key,rabbit,etcd3,h-eng,h-api',
            'SERVICE_HOST': '192.0.2.10',
            'ETCD_PORT': '2379',
            'KEYSTONE_SERVICE_URI': 'http://192.0.2.10/identity',
            'SERVICE_PASSWORD': 'service-secret',
            'SERVICE_PROJECT_NAME': 'service',
            'SERVICE_DOMAIN_NAME': 'Default',
            'REGION_NAME': 'RegionOne',
            'ENABLE_DEBUG_LOG_LEVEL': 'True',
            'STACK_USER': pwd.getpwuid(os.getuid()).pw_name,
            'PYTHON': '_python',
        }

    def run_plugin(self, *args, expect_rc=0, **env):
        if os.path.exists(self.calls_file):
            os.unlink(self.calls_file)
        self.env.update(env)
        proc = subprocess.run(
            ['bash', self.harness] + list(args), env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            universal_newlines=True, timeout=60)
        self.assertEqual(expect_rc, proc.returncode,
                         'plugin.sh %s: %s' % (' '.join(args), proc.stdout))
        return self.calls()

    def calls(self):
        if not os.path.exists(self.calls_file):
            return []
        with open(self.calls_file) as f:
            return [tuple(line.rstrip('\n').split('\t')) for line in f]

    @staticmethod
    def named(calls, name):
        return [c[1:] for c in calls if c[0] == name]

    def inisets(self, calls):
        """{(section, option): value} of the iniset calls on the config."""
        result = {}
        for args in self.named(calls, 'iniset'):
            self.assertEqual(self.conf_file, args[0], args)
            result[(args[1], args[2])] = args[3]
        return result

    # settings

    def test_settings_define_and_enable_the_plugin(self):
        calls = self.run_plugin('stack', 'pre-install')
        self.assertIn(('esi-agent',), self.named(calls, 'define_plugin'))
        self.assertIn(('esi-agent',), self.named(calls, 'enable_service'))

    # stack pre-install

    def test_pre_install_with_etcd3(self):
        calls = self.run_plugin('stack', 'pre-install')
        self.assertEqual([], self.named(calls, 'die'))

    def test_pre_install_without_etcd_dies(self):
        calls = self.run_plugin('stack', 'pre-install', expect_rc=1,
                                ENABLED_SERVICES='key,rabbit,h-api')
        [die] = self.named(calls, 'die')
        self.assertIn('enable_service etcd3', ' '.join(die))

    def test_pre_install_with_an_external_etcd(self):
        calls = self.run_plugin('stack', 'pre-install',
                                ENABLED_SERVICES='key,rabbit,h-api',
                                ESI_AGENT_ETCD_HOST='etcd.example.org')
        self.assertEqual([], self.named(calls, 'die'))

    # stack install

    def test_install(self):
        calls = self.run_plugin('stack', 'install')
        self.assertEqual([(ROOT,)], self.named(calls, 'setup_develop'))
        self.assertEqual([], self.named(calls, 'run_process'))

    # stack post-config

    def test_post_config_service_user(self):
        calls = self.run_plugin('stack', 'post-config')
        self.assertEqual([('esi-agent', 'admin')],
                         self.named(calls, 'create_service_user'))

    def test_post_config_transport_url(self):
        calls = self.run_plugin('stack', 'post-config')
        self.assertEqual([('esi-agent', self.conf_file, 'DEFAULT')],
                         self.named(calls, 'iniset_rpc_backend'))

    def test_post_config_options(self):
        options = self.inisets(self.run_plugin('stack', 'post-config'))
        expected = {
            ('DEFAULT', 'debug'): 'True',
            ('agent', 'rpc_topic'): 'esi-agent',
            ('etcd', 'host'): '192.0.2.10',
            ('etcd', 'port'): '2379',
            ('heat', 'auth_type'): 'password',
            ('heat', 'auth_url'): 'http://192.0.2.10/identity',
            ('heat', 'username'): 'esi-agent',
            ('heat', 'password'): 'service-secret',
            ('heat', 'project_name'): 'service',
            ('heat', 'user_domain_name'): 'Default',
            ('heat', 'project_domain_name'): 'Default',
            ('heat', 'region_name'): 'RegionOne',
            ('templates', 'mapping_file'): os.path.join(
                self.conf_dir, 'template_mappings.json'),
            ('templates', 'template_dir'): os.path.join(
                self.conf_dir, 'templates'),
        }
        self.assertEqual(expected, options)

    def test_post_config_options_exist(self):
        # Every option the plugin sets is one the agent reads.
        options = self.inisets(self.run_plugin('stack', 'post-config'))
        known = {}
        for ep in importlib.metadata.entry_points(group='oslo.config.opts'):
            if ep.name in ('esi-agent', 'oslo.log'):
                for group, opts in ep.load()():
                    name = getattr(group, 'name', group) or 'DEFAULT'
                    known.setdefault(name, set()).update(
                        o.dest for o in opts)
        for section, option in options:
            self.assertIn(option, known.get(section, ()),
                          '[%s] %s is not an esi-agent option' % (
                              section, option))

    def test_post_config_file_loads(self):
        # What the iniset calls write is a configuration the agent loads.
        options = self.inisets(self.run_plugin('stack', 'post-config'))
        parser = configparser.ConfigParser()
        for (section, option), value in options.items():
            if section != 'DEFAULT' and not parser.has_section(section):
                parser.add_section(section)
            parser.set(section, option, value)
        path = os.path.join(self.tmp, 'written.conf')
        with open(path, 'w') as f:
            parser.write(f)
        conf = cfg.ConfigOpts()
        etcd.register_opts(conf)
        templates.register_opts(conf)
        conf(['--config-file', path], project='esi-agent',
             default_config_files=[])
        self.assertEqual('192.0.2.10', conf.etcd.host)
        self.assertEqual(2379, conf.etcd.port)
        self.assertTrue(os.path.isfile(conf.templates.mapping_file))
        self.assertTrue(os.path.isfile(os.path.join(
            conf.templates.template_dir, 'port.yaml')))

    def test_post_config_external_etcd(self):
        options = self.inisets(self.run_plugin(
            'stack', 'post-config', ESI_AGENT_ETCD_HOST='etcd.example.org',
            ESI_AGENT_ETCD_PORT='12379'))
        self.assertEqual('etcd.example.org', options[('etcd', 'host')])
        self.assertEqual('12379', options[('etcd', 'port')])

    def test_post_config_copies_the_shipped_files(self):
        self.run_plugin('stack', 'post-config')
        shipped = os.path.join(ROOT, 'etc', 'esi-agent')
        self.assertTrue(os.path.isfile(os.path.join(
            self.conf_dir, 'template_mappings.json')))
        self.assertEqual(
            sorted(os.listdir(os.path.join(shipped, 'templates'))),
            sorted(os.listdir(os.path.join(self.conf_dir, 'templates'))))

    def test_post_config_sets_up_logging(self):
        calls = self.run_plugin('stack', 'post-config')
        self.assertEqual([(self.conf_file,)],
                         self.named(calls, 'setup_logging'))
        self.assertEqual([], self.named(calls, 'run_process'))

    # stack extra

    def test_extra_publishes_templates_then_runs_the_agent(self):
        calls = self.run_plugin('stack', 'extra')
        self.assertEqual(
            [(os.path.join(ROOT, 'tools', 'publish-templates'),
              '--config-file', self.conf_file,
              '--template-dir', os.path.join(self.conf_dir, 'templates'))],
            self.named(calls, 'python'))
        self.assertEqual(
            [('esi-agent',
              '/stub/bin/esi-agent --config-file %s' % self.conf_file)],
            self.named(calls, 'run_process'))
        names = [c[0] for c in calls]
        self.assertLess(names.index('python'), names.index('run_process'))

    def test_extra_without_publishing(self):
        calls = self.run_plugin('stack', 'extra',
                                ESI_AGENT_PUBLISH_TEMPLATES='False')
        self.assertEqual([], self.named(calls, 'python'))
        self.assertEqual(1, len(self.named(calls, 'run_process')))

    # unstack, clean

    def test_unstack_stops_the_agent(self):
        calls = self.run_plugin('unstack')
        self.assertEqual([('esi-agent',)], self.named(calls, 'stop_process'))
        self.assertEqual([], self.named(calls, 'run_process'))

    def test_clean_removes_the_config_dir(self):
        self.run_plugin('stack', 'post-config')
        self.assertTrue(os.path.isdir(self.conf_dir))
        calls = self.run_plugin('clean')
        self.assertFalse(os.path.exists(self.conf_dir))
        self.assertEqual([('rm', '-rf', self.conf_dir)],
                         self.named(calls, 'sudo'))

    # a disabled service

    def test_disabled_service_does_nothing(self):
        for phase in (('stack', 'pre-install'), ('stack', 'install'),
                      ('stack', 'post-config'), ('stack', 'extra'),
                      ('unstack',), ('clean',)):
            calls = self.run_plugin(*phase, ESI_TEST_DISABLE='esi-agent')
            done = [c for c in calls if c[0] not in (
                'define_plugin', 'plugin_requires', 'enable_service')]
            self.assertEqual([], done, phase)
        self.assertFalse(os.path.exists(self.conf_dir))
