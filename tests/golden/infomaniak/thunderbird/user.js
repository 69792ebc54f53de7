// Thunderbird account for jean.dupont@example.ch at Infomaniak, written by mailsetup.
// Every key below is "mailsetup_a3c0e977f94d": Thunderbird's own keys are account1, server1, id1, smtp1...,
// so nothing here replaces a setting of another account. README.txt says how to add and remove.

// Add the account to the ones already in the profile (appended once).
user_pref("mail.accountmanager.appendaccounts", "mailsetup_a3c0e977f94d");
user_pref("mailnews.append_preconfig_accounts.version", 1);
user_pref("mail.account.mailsetup_a3c0e977f94d.server", "mailsetup_a3c0e977f94d");
user_pref("mail.account.mailsetup_a3c0e977f94d.identities", "mailsetup_a3c0e977f94d");

// Incoming mail (IMAP).
user_pref("mail.server.mailsetup_a3c0e977f94d.type", "imap");
user_pref("mail.server.mailsetup_a3c0e977f94d.name", "jean.dupont@example.ch");
user_pref("mail.server.mailsetup_a3c0e977f94d.hostname", "mail.infomaniak.com");
user_pref("mail.server.mailsetup_a3c0e977f94d.port", 993);
user_pref("mail.server.mailsetup_a3c0e977f94d.socketType", 3);
user_pref("mail.server.mailsetup_a3c0e977f94d.userName", "jean.dupont@example.ch");
user_pref("mail.server.mailsetup_a3c0e977f94d.authMethod", 3);
user_pref("mail.server.mailsetup_a3c0e977f94d.login_at_startup", true);

// Identity: the address and the name people see.
user_pref("mail.identity.mailsetup_a3c0e977f94d.useremail", "jean.dupont@example.ch");
user_pref("mail.identity.mailsetup_a3c0e977f94d.fullName", "Jean Dupont");
user_pref("mail.identity.mailsetup_a3c0e977f94d.smtpServer", "mailsetup_a3c0e977f94d");
user_pref("mail.identity.mailsetup_a3c0e977f94d.valid", true);

// Outgoing mail (SMTP). Profile with accounts already? Put its list first:
// copy mail.smtpservers from prefs.js, e.g. "smtp1,mailsetup_a3c0e977f94d".
user_pref("mail.smtpservers", "mailsetup_a3c0e977f94d");
user_pref("mail.smtpserver.mailsetup_a3c0e977f94d.type", "smtp");
user_pref("mail.smtpserver.mailsetup_a3c0e977f94d.description", "Infomaniak");
user_pref("mail.smtpserver.mailsetup_a3c0e977f94d.hostname", "mail.infomaniak.com");
user_pref("mail.smtpserver.mailsetup_a3c0e977f94d.port", 587);
user_pref("mail.smtpserver.mailsetup_a3c0e977f94d.try_ssl", 2);
user_pref("mail.smtpserver.mailsetup_a3c0e977f94d.username", "jean.dupont@example.ch");
user_pref("mail.smtpserver.mailsetup_a3c0e977f94d.authMethod", 3);

// Address book (CardDAV, dirType 102).
user_pref("ldap_2.servers.mailsetup_a3c0e977f94d.description", "Infomaniak (jean.dupont@example.ch)");
user_pref("ldap_2.servers.mailsetup_a3c0e977f94d.dirType", 102);
user_pref("ldap_2.servers.mailsetup_a3c0e977f94d.filename", "mailsetup_a3c0e977f94d.sqlite");
user_pref("ldap_2.servers.mailsetup_a3c0e977f94d.carddav.url", "https://sync.infomaniak.com/");
user_pref("ldap_2.servers.mailsetup_a3c0e977f94d.carddav.username", "AB12345");

// Calendar (CalDAV).
user_pref("calendar.registry.mailsetup_a3c0e977f94d.type", "caldav");
user_pref("calendar.registry.mailsetup_a3c0e977f94d.name", "Infomaniak (jean.dupont@example.ch)");
user_pref("calendar.registry.mailsetup_a3c0e977f94d.uri", "https://sync.infomaniak.com/");
user_pref("calendar.registry.mailsetup_a3c0e977f94d.cache.enabled", true);
user_pref("calendar.registry.mailsetup_a3c0e977f94d.username", "AB12345");
