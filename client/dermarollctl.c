/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dermarollctl.c: the command-line client of dermarolld: its commands,
 * their help, the options that go before a command, and main().
 *
 * dermarollctl talks to the daemon only through the generated D-Bus
 * proxies (protocol/org.dermaroll.*.xml). Exit status: 0 success, 1 an
 * error (one line on stderr), 2 bad usage.
 */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "format.h"

#define DATE_HELP                                                                                  \
  "DATE is YYYY-MM-DD or an ISO 8601 date and time (2024-05-14T08:30, 2024-05-14 08:30:15),\n"     \
  "in local time unless it ends in Z or an offset. --until with a day alone includes that day.\n"

static const DrCommand commands[] = {
  { "scan", NULL, "List rollers in range, live, until Ctrl-C",
    "Starts discovery and lists the rollers the daemon knows, then each new one as it is\n"
    "seen. Stops discovery on Ctrl-C or after --timeout.\n\n"
    "Example:\n  dermarollctl scan --timeout 20\n",
    dr_cmd_scan, DR_CMD_JSON },
  { "pair", "ADDRESS", "Pair a roller and remember it",
    "The roller must be on and near. Waits up to 30 s for it to show up.\n\n"
    "Example:\n  dermarollctl pair C0:FF:EE:00:00:01\n",
    dr_cmd_pair, 0 },
  { "forget", "ADDRESS", "Remove a roller's pairing (its sessions stay stored)",
    "Example:\n  dermarollctl forget C0:FF:EE:00:00:01\n", dr_cmd_forget, 0 },
  { "list", NULL, "List known rollers: connected, battery, needles, head wear",
    "Example:\n  dermarollctl list\n", dr_cmd_list, DR_CMD_JSON },
  { "status", "[ADDRESS]", "Show one roller in detail",
    "Without ADDRESS (or --roller), the one roller known.\n\n"
    "Example:\n  dermarollctl status\n",
    dr_cmd_status, DR_CMD_JSON | DR_CMD_ROLLER },
  { "watch", NULL, "Live view: force, zone, coverage and every event, until Ctrl-C",
    "Force is drawn as a bar against the over-pressure limit (the '|'). On a terminal the\n"
    "view is redrawn in place; on a pipe each event and state change is one line.\n\n"
    "Example:\n  dermarollctl watch\n  dermarollctl watch --json --timeout 60 > session.jsonl\n",
    dr_cmd_watch, DR_CMD_JSON | DR_CMD_ROLLER },
  { "zone", "ZONE", "Set the zone being rolled (\"\" for none)",
    "Used for samples in which the roller's own motion sensor does not know the zone.\n"
    "'dermarollctl zones' lists the valid names.\n\n"
    "Example:\n  dermarollctl zone forehead\n",
    dr_cmd_zone, DR_CMD_ROLLER },
  { "start", NULL, "Start a session now, not at the first contact",
    "Example:\n  dermarollctl start\n", dr_cmd_start, DR_CMD_ROLLER },
  { "stop", NULL, "End the active session", "Example:\n  dermarollctl stop\n", dr_cmd_stop,
    DR_CMD_ROLLER },
  { "sessions", NULL, "List stored sessions, with whose they are",
    DATE_HELP "Without --person, everybody's sessions (\"—\" for a removed person's).\n"
              "\nExample:\n  dermarollctl sessions --since 2024-05-01 --person Ann\n",
    dr_cmd_sessions, DR_CMD_JSON | DR_CMD_ROLLER | DR_CMD_PERSON },
  { "coverage", "[SESSION|last]", "Coverage of each zone in a session; --svg draws the face map",
    "SESSION is an id from 'dermarollctl sessions'; the default is the last session.\n"
    "The face map colours each zone from light red (0 %) to green (100 %: the target\n"
    "passes reached) and hatches excluded zones.\n\n"
    "After the table, each treated zone that must still rest, and from when it may be\n"
    "treated again (the session's person's rest status).\n"
    "With --person, last is that person's last session.\n\n"
    "Example:\n  dermarollctl coverage last --svg coverage.svg\n",
    dr_cmd_coverage, DR_CMD_JSON | DR_CMD_ROLLER | DR_CMD_PERSON },
  { "events", "SESSION", "List a session's events (over-pressure, excluded zone, ...)",
    "SESSION is an id from 'dermarollctl sessions', or last (with --person, that\n"
    "person's last session).\n\n"
    "Example:\n  dermarollctl events 12\n",
    dr_cmd_events, DR_CMD_JSON | DR_CMD_PERSON },
  { "zones", NULL, "List the zones: excluded, last treated, free again from",
    "For the default person, or --person. LAST TREATED is the end of the person's latest\n"
    "session with contact in the zone; AGAIN FROM is when its rest ends (\"now\": it may be\n"
    "treated now). In --json, last_treated_ms is null for never, free_from_ms null for now.\n\n"
    "Example:\n  dermarollctl zones --person Ann\n",
    dr_cmd_zones, DR_CMD_JSON | DR_CMD_PERSON },
  { "exclude", "ZONE", "Exclude a zone (active acne, rosacea, eczema): warn on contact",
    "For the default person, or --person: applies at once to every roller of theirs, and\n"
    "is stored.\n\n"
    "Example:\n  dermarollctl exclude left-cheek --person Ann\n",
    dr_cmd_exclude, DR_CMD_PERSON },
  { "include", "ZONE", "Include an excluded zone again",
    "For the default person, or --person.\n\n"
    "Example:\n  dermarollctl include left-cheek\n",
    dr_cmd_include, DR_CMD_PERSON },
  { "people", NULL, "List the people: default, their rollers, excluded zones",
    "History, rest and excluded zones belong to a person; a roller's sessions are for\n"
    "its person ('dermarollctl person use').\n\n"
    "Example:\n  dermarollctl people\n",
    dr_cmd_people, DR_CMD_JSON },
  { "person", "add|rename|remove|use NAME…",
    "Add, rename or remove a person, or give a roller to one",
    "remove keeps the person's sessions, owned by nobody, unless --delete-data; it is\n"
    "refused while one of their sessions is in progress. use makes the roller's next\n"
    "sessions that person's (a session in progress for someone else ends first); without\n"
    "--roller, the one roller there is.\n\n"
    "Example:\n  dermarollctl person add Ann\n  dermarollctl person use Ann --roller "
    "C0:FF:EE:00:00:01\n",
    dr_cmd_person, DR_CMD_ROLLER },
  { "notifications", "[list|enable KIND|disable KIND]",
    "List the kinds of desktop notification, or switch one on or off",
    "The daemon remembers the choice; the config file's [notifications] group gives only\n"
    "the default. A kind switched off still records its events and signals.\n\n"
    "Example:\n  dermarollctl notifications disable low-battery\n",
    dr_cmd_notifications, DR_CMD_JSON },
  { "export", NULL, "Export sessions with their coverage and events as CSV or JSON",
    DATE_HELP "\n"
              "CSV has one row per session, per zone of a session (record=coverage) and per event\n"
              "(record=event, details as a JSON object). Times are ISO 8601 in local time.\n\n"
              "Every session and row names its person (empty for a removed person's).\n\n"
              "Example:\n  dermarollctl export --since 2024-05-01 --format csv -o sessions.csv\n",
    dr_cmd_export, DR_CMD_ROLLER | DR_CMD_PERSON },
  { "sync", NULL, "Pull the roller's stored history now",
    "The daemon does this by itself when a roller connects.\n\n"
    "Example:\n  dermarollctl sync\n",
    dr_cmd_sync, DR_CMD_ROLLER },
};

static const DrCommand *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];
  return NULL;
}

static void
print_help (FILE *out)
{
  fprintf (out,
           "Usage: dermarollctl [--system] [--roller ADDRESS] [--person NAME] [--json] COMMAND "
           "[ARGS…]\n\n"
           "Control dermarolld, the smart derma roller daemon.\n\n"
           "Commands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *usage
          = g_strdup_printf ("%s%s%s", commands[i].name, commands[i].args ? " " : "",
                             commands[i].args ? commands[i].args : "");
      /* A long usage gets its own line rather than pushing the summary out. */
      if (strlen (usage) > 26)
        fprintf (out, "  %s\n  %-26s %s\n", usage, "", commands[i].summary);
      else
        fprintf (out, "  %-26s %s\n", usage, commands[i].summary);
    }
  fprintf (out, "  %-26s %s\n", "help [COMMAND]", "Show this, or a command's help");
  fprintf (out,
           "\nOptions:\n"
           "  --system                   Talk to dermarolld on the system bus\n"
           "  -r, --roller ADDRESS       The roller to use when several are known\n"
           "  --person NAME              The person meant (sessions, coverage, events, export,\n"
           "                             zones, exclude, include); default: the default person\n"
           "  --json                     JSON output (list, status, sessions, coverage, events,\n"
           "                             zones, people; one object a line for scan and watch)\n"
           "  -h, --help                 Show this help\n"
           "  --version                  Show the version\n"
           "\n'dermarollctl COMMAND --help' shows a command's own options.\n"
           "Exit status: 0 on success, 1 on an error, 2 on bad usage.\n");
}

static int
run_command (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  /* GOption wants a writable, NULL-terminated vector it may rearrange. */
  g_autofree char **args = g_new0 (char *, argc + 1);
  memcpy (args, argv, sizeof (char *) * argc);
  return cmd->run (ctl, cmd, argc, args);
}

/* Every way out of main (), the early ones for --help and usage errors
 * included, lets go of what the options and the command took. */
static void
ctl_clear (DrCtl *ctl)
{
  g_clear_object (&ctl->objects);
  g_clear_object (&ctl->manager);
  g_clear_object (&ctl->connection);
  g_clear_pointer (&ctl->roller, g_free);
  g_clear_pointer (&ctl->person, g_free);
  g_list_free_full (g_steal_pointer (&ctl->people), g_object_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DrCtl, ctl_clear)

int
main (int argc, char **argv)
{
  g_auto (DrCtl) ctl = { 0 };
  const DrCommand *cmd;
  int i, status;

  setlocale (LC_ALL, "");
  g_set_prgname ("dermarollctl");

  /* The options before the command, by hand: GOption would also take the
   * command's own options, which only the command knows. */
  for (i = 1; i < argc && argv[i][0] == '-'; i++)
    {
      const char *arg = argv[i];

      if (g_str_equal (arg, "--"))
        {
          i++;
          break;
        }
      if (g_str_equal (arg, "--system"))
        ctl.system = TRUE;
      else if (g_str_equal (arg, "--json"))
        ctl.json = TRUE;
      else if (g_str_equal (arg, "--roller") || g_str_equal (arg, "-r"))
        {
          if (i + 1 >= argc)
            return dr_ctl_usage (NULL, "%s needs an ADDRESS", arg);
          g_free (ctl.roller);
          ctl.roller = g_strdup (argv[++i]);
        }
      else if (g_str_has_prefix (arg, "--roller="))
        {
          g_free (ctl.roller);
          ctl.roller = g_strdup (arg + strlen ("--roller="));
        }
      else if (g_str_equal (arg, "--person"))
        {
          if (i + 1 >= argc)
            return dr_ctl_usage (NULL, "%s needs a NAME", arg);
          g_free (ctl.person);
          ctl.person = g_strdup (argv[++i]);
        }
      else if (g_str_has_prefix (arg, "--person="))
        {
          g_free (ctl.person);
          ctl.person = g_strdup (arg + strlen ("--person="));
        }
      else if (g_str_equal (arg, "--help") || g_str_equal (arg, "-h"))
        {
          print_help (stdout);
          return DR_EXIT_OK;
        }
      else if (g_str_equal (arg, "--version"))
        {
          g_print ("dermarollctl %s\n", PACKAGE_VERSION);
          return DR_EXIT_OK;
        }
      else
        return dr_ctl_usage (NULL, "unknown option %s", arg);
    }

  if (i >= argc)
    {
      print_help (stderr);
      return DR_EXIT_USAGE;
    }

  if (g_str_equal (argv[i], "help"))
    {
      if (i + 1 >= argc)
        {
          print_help (stdout);
          return DR_EXIT_OK;
        }
      cmd = find_command (argv[i + 1]);
      if (cmd == NULL)
        return dr_ctl_usage (NULL, "unknown command \"%s\"", argv[i + 1]);
      {
        char *help_argv[] = { argv[i + 1], (char *) "--help" };
        return run_command (&ctl, cmd, 2, help_argv);
      }
    }

  cmd = find_command (argv[i]);
  if (cmd == NULL)
    return dr_ctl_usage (NULL, "unknown command \"%s\"", argv[i]);

  ctl.colour = dr_fmt_colour_wanted (fileno (stdout));
  status = run_command (&ctl, cmd, argc - i, argv + i);
  return status;
}
