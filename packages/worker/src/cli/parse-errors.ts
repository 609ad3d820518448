import type { CommanderError } from "commander";
import { UsageError } from "./exit-codes.js";

/**
 * A parse error of commander in our words, as a UsageError: what was wrong, the suggestion when there is one
 * ("did you mean"), and where to look. `command` is the full command (`cairn analytics`) the error arose in; the
 * message is printed after it (`cairn runs: unknown option --stat. Did you mean --status?`).
 */
export function usageErrorFrom(err: CommanderError, command: string): UsageError {
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? "";
  const suggestion = /\(Did you mean (.+?)\?\)/.exec(err.message)?.[1];
  const didYouMean = suggestion ? ` Did you mean ${suggestion}?` : "";
  const help = `See \`${command} --help\`.`;
  switch (err.code) {
    case "commander.unknownCommand":
      return new UsageError(
        `${JSON.stringify(quoted)} is not a command.${suggestion ? ` Did you mean \`${command} ${suggestion}\`?` : ""} ${help}`,
      );
    case "commander.unknownOption":
      return new UsageError(`unknown option ${quoted}.${didYouMean} ${help}`);
    case "commander.missingArgument":
      return new UsageError(`missing <${quoted}>. ${help}`);
    case "commander.excessArguments": {
      const expected = /Expected (\d+) arguments?/.exec(err.message)?.[1] ?? "fewer";
      return new UsageError(
        `too many arguments: this command takes ${expected === "0" ? "none" : `at most ${expected}`}; quote a value that contains spaces. ${help}`,
      );
    }
    case "commander.optionMissingArgument":
      return new UsageError(`${quoted.split(/[ ,]/)[0] ?? quoted} needs a value (${quoted}). ${help}`);
    case "commander.missingMandatoryOptionValue":
      return new UsageError(`missing ${quoted}. ${help}`);
    case "commander.invalidArgument":
      return new UsageError(`${err.message.replace(/^error: /, "")} ${help}`);
    default:
      return new UsageError(`${err.message.replace(/^error: /, "").replace(/\n/g, " ")} ${help}`);
  }
}
