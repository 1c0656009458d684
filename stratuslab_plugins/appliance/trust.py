"""The site's trust policy: which endorsed appliances this site runs.

A site writes its policy in a YAML file (sample:
``etc/appliance-trust-policy.yaml.sample``)::

    require_signature: true      # refuse unsigned image lists
    enforce_expiry: true         # refuse expired lists and appliances
    allow_deprecated: false      # refuse appliances their endorser retired
    require_crls: true           # refuse a signer whose CA has no CRL
    accept_expired_crls: false   # refuse a signer whose CA's CRL expired
    endorsers:
      allow: ["/DC=org/DC=example/CN=Jane Doe", jane@example.org]
      deny: [mallory@example.org]
    checksums:
      deny: [<sha512, sha256 or sha1 hex of a known-bad image>]
    identifiers:
      deny: [<appliance identifier or StratusLab identifier>]
    vos:
      allow: [vo.example.org]

Empty or absent ``allow`` lists allow everything; ``deny`` always wins.
Endorsers are matched by certificate DN, or by e-mail address: the one in
the signer's certificate when the list is signed, ``hv:email`` only for
unsigned lists a policy chose to accept. Every certificate of the
signer's chain is checked against the CRLs of the CA directory
(:mod:`.revocation`); the two CRL settings say what to do when a CRL is
missing or expired. Every check returns a :class:`Verdict` whose
``reason`` tells a person what to change.

Example::

    policy = TrustPolicy.load('/etc/stratuslab/appliance-trust.yaml')
    image_list, verdicts = evaluate(document, ca_path, policy)
    if all(v.trusted for v in verdicts): ...
"""

import dataclasses

import yaml

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import image_list as image_list_mod
from stratuslab_plugins.appliance import model
from stratuslab_plugins.appliance import revocation


@dataclasses.dataclass(frozen=True)
class Verdict:
    """Whether ``subject`` is trusted, and why, in words a person acts on."""

    subject: str
    trusted: bool
    reason: str


_SECTIONS = {
    'endorsers': ('allow', 'deny'),
    'checksums': ('deny',),
    'identifiers': ('deny',),
    'vos': ('allow',),
}
_PAST = {'allow': 'allowed', 'deny': 'denied'}
_FLAGS = {'require_signature': True, 'enforce_expiry': True,
          'allow_deprecated': False, 'require_crls': True,
          'accept_expired_crls': False}


def _strings(value, where):
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str)
                                              for v in value):
        raise exceptions.InvalidInput(
            'Trust policy %s must be a list of strings.' % where)
    return tuple(v.strip() for v in value)


@dataclasses.dataclass
class TrustPolicy:
    """A site's trust policy (see the module docstring for the file)."""

    allowed_endorsers: tuple = ()
    denied_endorsers: tuple = ()
    denied_checksums: tuple = ()
    denied_identifiers: tuple = ()
    allowed_vos: tuple = ()
    require_signature: bool = True
    enforce_expiry: bool = True
    allow_deprecated: bool = False
    require_crls: bool = True
    accept_expired_crls: bool = False

    @property
    def crls(self):
        """The :class:`revocation.CrlPolicy` of this policy."""
        return revocation.CrlPolicy(
            require_crls=self.require_crls,
            accept_expired_crls=self.accept_expired_crls)

    @classmethod
    def from_dict(cls, data, source='trust policy'):
        """Build a policy from the parsed YAML, refusing unknown keys."""
        data = data or {}
        if not isinstance(data, dict):
            raise exceptions.InvalidInput(
                '%s is not a mapping of policy settings.' % source)
        unknown = set(data) - set(_SECTIONS) - set(_FLAGS)
        if unknown:
            raise exceptions.InvalidInput(
                '%s has unknown settings %s; known: %s.'
                % (source, ', '.join(sorted(unknown)),
                   ', '.join(sorted(set(_SECTIONS) | set(_FLAGS)))))
        values = {}
        for section, keys in _SECTIONS.items():
            part = data.get(section) or {}
            if not isinstance(part, dict) or set(part) - set(keys):
                raise exceptions.InvalidInput(
                    '%s: %s takes only %s.'
                    % (source, section, ' and '.join(keys)))
            for key in keys:
                field = '%s_%s' % (_PAST[key], section)
                values[field] = _strings(part.get(key), '%s.%s in %s'
                                         % (section, key, source))
        for flag, default in _FLAGS.items():
            value = data.get(flag, default)
            if not isinstance(value, bool):
                raise exceptions.InvalidInput(
                    '%s: %s must be true or false, not %r.'
                    % (source, flag, value))
            values[flag] = value
        values['denied_checksums'] = tuple(
            c.lower() for c in values['denied_checksums'])
        return cls(**values)

    @classmethod
    def load(cls, path):
        """Read a policy file; errors name the file and the setting."""
        try:
            with open(path, 'rb') as f:
                data = yaml.safe_load(f)
        except OSError as error:
            raise exceptions.InvalidInput(
                'Cannot read trust policy %s: %s.' % (path, error.strerror)
            ) from None
        except yaml.YAMLError as error:
            raise exceptions.InvalidInput(
                'Trust policy %s is not valid YAML: %s.' % (path, error)
            ) from None
        return cls.from_dict(data, source='trust policy %s' % path)

    # -- checks --------------------------------------------------------------

    @staticmethod
    def _matches(endorser, patterns, email):
        lowered = {p.lower() for p in patterns}
        return endorser.dn in patterns or bool(email and
                                               email.lower() in lowered)

    def check_endorser(self, endorser, signer=None):
        """Return the verdict on an endorser (signer: verified identity)."""
        email = signer.email if signer else endorser.email
        subject = 'endorser %s' % endorser.dn
        if self._matches(endorser, self.denied_endorsers, email):
            return Verdict(subject, False,
                           'endorser %s <%s> is denied by the site trust '
                           'policy (endorsers.deny)' % (endorser.dn, email))
        if self.allowed_endorsers and not self._matches(
                endorser, self.allowed_endorsers, email):
            return Verdict(subject, False,
                           'endorser %s <%s> is not in endorsers.allow of '
                           'the site trust policy; add them there if the '
                           'site trusts them' % (endorser.dn, email))
        return Verdict(subject, True, 'endorser %s is trusted' % endorser.dn)

    def _appliance_problem(self, appliance, at, signer, list_vo):
        ids = {appliance.identifier, appliance.stratuslab_id}
        denied = ids & set(self.denied_identifiers)
        if denied:
            return ('its identifier %s is in identifiers.deny of the site '
                    'trust policy' % denied.pop())
        sums = {appliance.sha512, appliance.sha256, appliance.sha1}
        if sums & set(self.denied_checksums):
            return ('its checksum is in checksums.deny of the site trust '
                    'policy: this image is known bad')
        if appliance.endorser is None:
            return 'it has no endorser'
        verdict = self.check_endorser(appliance.endorser, signer)
        if not verdict.trusted:
            return verdict.reason
        if self.enforce_expiry and (appliance.is_expired(at)):
            return ('its endorsement expired on %s; ask %s to renew it'
                    % (model.format_time(appliance.expires),
                       appliance.endorser.email or appliance.endorser.dn))
        if appliance.deprecated and not self.allow_deprecated:
            hint = (' (replaced by %s)' % appliance.replaced_by
                    if appliance.replaced_by else '')
            return ('its endorser deprecated it: %s%s'
                    % (appliance.deprecated, hint))
        vos = set(appliance.vos) | ({list_vo} if list_vo else set())
        if self.allowed_vos and not vos & set(self.allowed_vos):
            return ('it is for VOs %s, none of which is in vos.allow of the '
                    'site trust policy' % (', '.join(sorted(vos))
                                           or '(none)'))
        return None

    def check_appliance(self, appliance, at=None, signer=None,
                        list_vo=None):
        """Return the verdict on one appliance."""
        subject = 'appliance %s (%s)' % (appliance.identifier,
                                         appliance.title)
        problem = self._appliance_problem(appliance, at or model.now(),
                                          signer, list_vo)
        if problem:
            return Verdict(subject, False, '%s is not trusted: %s'
                           % (subject, problem))
        return Verdict(subject, True, '%s is trusted: endorsed by %s'
                       % (subject, appliance.endorser.dn))

    def check_list(self, image_list, at=None):
        """Return verdicts on a read list: the list first, then entries."""
        at = at or model.now()
        subject = 'image list %s (%s)' % (image_list.identifier,
                                          image_list.title)
        problem = None
        if self.require_signature and image_list.signer is None:
            problem = 'it is not signed and the policy requires signatures'
        elif self.enforce_expiry and (image_list.expires is None
                                      or image_list.expires <= at):
            problem = ('it expired on %s; ask its endorser for a fresh list'
                       % model.format_time(image_list.expires))
        else:
            verdict = self.check_endorser(image_list.endorser,
                                          image_list.signer)
            problem = None if verdict.trusted else verdict.reason
        verdicts = [Verdict(subject, False, '%s is not trusted: %s'
                            % (subject, problem)) if problem else
                    Verdict(subject, True, '%s is trusted' % subject)]
        verdicts.extend(self.check_appliance(a, at, image_list.signer,
                                             image_list.vo)
                        for a in image_list.appliances)
        return verdicts


def evaluate(document, ca_path, policy, at=None, source='image list'):
    """Verify and judge an image list; return ``(image_list, verdicts)``.

    A list that cannot be read or verified gives ``(None, [verdict])``
    with the reason; otherwise the list and one verdict for it and one per
    appliance. The caller trusts what has ``trusted`` set, nothing else.
    """
    try:
        image_list = image_list_mod.read(
            document, ca_path, require_signature=policy.require_signature,
            check_expiry=False, at=at, source=source, crls=policy.crls)
    except exceptions.ApplianceError as error:
        return None, [Verdict(source, False, str(error))]
    return image_list, policy.check_list(image_list, at)
