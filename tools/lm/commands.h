/* The lm tool's subcommands. Each takes the arguments after its name and returns the exit code.
 * The tool uses only the public API (lm.h), like any user. */
#ifndef LM_TOOL_COMMANDS_H
#define LM_TOOL_COMMANDS_H

int cmd_version(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_fill_mask(int argc, char **argv);
int cmd_qa(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);

#endif
