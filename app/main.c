/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* main.c: dermaroll, the desktop app: translations, then the
 * application. */
#include <glib/gi18n.h>
#include <locale.h>

#include "application.h"

int
main (int argc, char **argv)
{
  g_autoptr (DrApplication) app = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_application_name (_ ("Dermaroll"));

  app = dr_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
