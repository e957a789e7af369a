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
"""The exceptions of esi-agent.

The message of a :class:`JobError` is what ends up, verbatim, in the
``error`` field of the job's state record, so it must be written for a
person reading that record: name the job field, the resource or the template
that is at fault.
"""

from esi_agent.i18n import _


class EsiAgentException(Exception):
    """Base of every exception raised by esi-agent.

    Subclasses set ``msg_fmt``; keyword arguments fill it in.
    """

    msg_fmt = _('An unknown exception occurred.')

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if not message:
            message = self.msg_fmt % kwargs if kwargs else self.msg_fmt
        self.message = str(message)
        super().__init__(self.message)

    def __str__(self):
        return self.message


class JobError(EsiAgentException):
    """A job cannot be carried out; the message goes to its state record."""

    msg_fmt = _('The job failed: %(reason)s')


class InvalidJob(JobError):
    msg_fmt = _('Invalid job: %(reason)s')


class DependencyFailed(JobError):
    msg_fmt = _('Dependency %(dependency)s failed: %(reason)s')


class DependencyTimeout(JobError):
    msg_fmt = _('Gave up after %(seconds)d s waiting for %(waiting_for)s')


class DependencyCycle(JobError):
    msg_fmt = _('Dependency cycle: %(cycle)s')


class ParamResolutionError(JobError):
    msg_fmt = _('Cannot resolve param %(param)s: %(reason)s')


class TemplateMappingError(JobError):
    msg_fmt = _('Cannot choose the template of %(resource_type)s: '
                '%(reason)s')


class TemplateNotFound(JobError):
    msg_fmt = _('Heat template %(template_id)s not found in etcd '
                '(%(etcd_key)s) nor in template_dir (%(path)s)')


class TemplateRenderError(JobError):
    msg_fmt = _('Cannot render Heat template %(template_id)s: %(reason)s')


class HeatError(JobError):
    msg_fmt = _('Heat %(operation)s of stack %(stack)s failed: %(reason)s')


class ServiceUnavailable(EsiAgentException):
    """An external service (etcd, Heat, the bus) does not answer."""

    service = 'a service'
    msg_fmt = _('%(service)s is unavailable: %(reason)s')


class EtcdError(ServiceUnavailable):
    service = 'etcd'
    msg_fmt = _('etcd request failed: %(reason)s')


class HeatUnavailable(HeatError, ServiceUnavailable):
    """Heat did not answer, or answered 5xx, past the call's retries."""

    service = 'Heat'


class ServiceOutage(JobError):
    """A job waited too long for a service that does not answer."""

    msg_fmt = _('Gave up after %(seconds)d s: %(service)s is unavailable '
                '(%(reason)s)')


# What a message for a person must not show: the values of a job's params
# and resource_input fields whose names say they are secret (at any depth).
SECRET_WORDS = ('password', 'secret', 'token', 'key', 'credential')
MASK = '***'


def is_secret(name):
    """Whether a field called ``name`` holds a secret."""
    return isinstance(name, str) and any(
        word in name.lower() for word in SECRET_WORDS)


def mask_secrets(value, secret=False):
    """A copy of ``value`` with every secret replaced by ``MASK``."""
    if isinstance(value, dict):
        return {k: mask_secrets(v, secret or is_secret(k))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_secrets(v, secret) for v in value]
    return MASK if secret and value is not None else value


def secret_strings(value, secret=False):
    """The strings of ``value`` that are secrets, as a set."""
    if isinstance(value, str):
        return {value} if secret else set()
    found = set()
    if isinstance(value, dict):
        for k, v in value.items():
            found |= secret_strings(v, secret or is_secret(k))
    elif isinstance(value, (list, tuple)):
        for v in value:
            found |= secret_strings(v, secret)
    return found


def scrub(text, secrets, shortest=4):
    """``text`` with each of ``secrets`` replaced by ``MASK``.

    Secrets shorter than ``shortest`` characters are left: replacing them
    would garble the text more than it would hide.
    """
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= shortest:
            text = text.replace(secret, MASK)
    return text
