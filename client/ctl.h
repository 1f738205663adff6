/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ctl.h: what dermarollctl's commands share: the options every command
 * takes, the connection to dermarolld, the exit statuses and the one-line
 * error messages.
 *
 * Each command is a DrCommand in dermarollctl.c; its run() parses its own
 * options with dr_ctl_parse() and returns the process's exit status.
 */
#pragma once

#include <gio/gio.h>

#include "dr-dbus.h"
#include "json-writer.h"

G_BEGIN_DECLS

#define DR_BUS_NAME "org.dermaroll"
#define DR_MANAGER_PATH "/org/dermaroll"

typedef enum
{
  DR_EXIT_OK = 0,
  DR_EXIT_FAILURE = 1, /* the daemon or the roller said no, or is not there */
  DR_EXIT_USAGE = 2,   /* the command line is wrong */
} DrExit;

typedef enum
{
  DR_CMD_JSON = 1 << 0,   /* takes --json */
  DR_CMD_ROLLER = 1 << 1, /* takes --roller ADDRESS */
  DR_CMD_PERSON = 1 << 2, /* takes --person NAME */
} DrCommandFlags;

typedef struct _DrCtl DrCtl;
typedef struct _DrCommand DrCommand;

struct _DrCommand
{
  const char *name;
  const char *args;        /* positional arguments, for usage: "ADDRESS" */
  const char *summary;     /* one line, for the command list */
  const char *description; /* after the options in --help; may be NULL */
  int (*run) (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);
  DrCommandFlags flags;
};

struct _DrCtl
{
  /* Options every command may take, before or after its name. */
  gboolean system;
  gboolean json;
  char *roller;
  char *person;
  /* Colour on stdout: a terminal and NO_COLOR unset. */
  gboolean colour;

  /* Made on first use by dr_ctl_connect () / dr_ctl_connect_objects (). */
  GDBusConnection *connection;
  DrDBusManager1 *manager;
  GDBusObjectManager *objects;
  /* The Person1 objects, by dr_ctl_people (). */
  GList *people;
};

/* Parses @cmd's options (@entries, NULL-terminated, may be NULL, plus the
 * common ones @cmd's flags allow) out of @argc/@argv, which start with the
 * command's name. Returns -1 to go on, or the exit status (2 for a bad
 * option; --help exits 0 itself). */
int dr_ctl_parse (DrCtl *ctl, const DrCommand *cmd, const GOptionEntry *entries, int *argc,
                  char ***argv);
/* "dermarollctl: MESSAGE" and a pointer to --help on stderr; returns 2. */
int dr_ctl_usage (const DrCommand *cmd, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* "dermarollctl: MESSAGE" on stderr, the message of @error made fit for a
 * person (remote error names stripped, a missing daemon named as such);
 * returns 1. */
int dr_ctl_fail (DrCtl *ctl, const GError *error);
int dr_ctl_failf (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* "session" or "system". */
const char *dr_ctl_bus_name (DrCtl *ctl);

/* Connects to the bus and finds dermarolld there, starting it by D-Bus
 * activation when it is installed so; then makes the Manager1 proxy. */
gboolean dr_ctl_connect (DrCtl *ctl, GError **error);
/* dr_ctl_connect () and the object manager client for the Roller1 objects. */
gboolean dr_ctl_connect_objects (DrCtl *ctl, GError **error);

/* Every Roller1 the daemon has, sorted by address; each a new reference. */
GList *dr_ctl_list_rollers (DrCtl *ctl);
/* The roller @address names (any case), or with @address NULL the one
 * roller there is: the only paired one, or the only one at all. Errors
 * (DR_ERROR_NOT_FOUND) say which rollers there are. */
DrDBusRoller1 *dr_ctl_find_roller (DrCtl *ctl, const char *address, GError **error);
/* --roller, or ADDRESS given in its place; checks the address's form.
 * Returns -1 to go on with *@roller_out set, or the exit status. */
int dr_ctl_resolve_roller (DrCtl *ctl, const DrCommand *cmd, const char *address,
                           DrDBusRoller1 **roller_out);

/* Every Person1 the daemon has, in the order they were added (borrowed:
 * the list and its references stay @ctl's); NULL and @error when the
 * daemon cannot be asked (an empty list is no error, but the daemon
 * always has its default person). */
GList *dr_ctl_people (DrCtl *ctl, GError **error);
/* The name of the person at @path; NULL for "/" (nobody) or a person
 * the daemon does not have (any more). */
const char *dr_ctl_person_name (DrCtl *ctl, const char *path);
/* The person @name names (a positional NAME), else --person, else the
 * default person (Manager1.DefaultPerson). An unknown name is a usage
 * error listing the known people. Returns -1 to go on with *@person_out
 * set (a new reference), or the exit status. */
int dr_ctl_resolve_person (DrCtl *ctl, const DrCommand *cmd, const char *name,
                           DrDBusPerson1 **person_out);

/* Prints @text to stdout as is (it ends with a newline). */
void dr_ctl_print (const char *text);
/* Prints the finished --json document of a command (made pretty, so it
 * ends with a newline) and frees the writer. */
void dr_ctl_print_json (DrJson *json);

G_END_DECLS
