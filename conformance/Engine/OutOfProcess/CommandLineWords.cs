using System.Text;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>Splits a command line into words the way a POSIX shell does for plain words, quotes and backslashes.</summary>
public static class CommandLineWords
{
    /// <summary>
    /// Splits on unquoted white space. '...' keeps everything literally; "..." keeps everything but
    /// lets a backslash escape " \ $ and `; outside quotes a backslash escapes any character.
    /// Errors: <see cref="ArgumentException"/> for an unterminated quote or a trailing backslash.
    /// </summary>
    public static IReadOnlyList<string> Split(string commandLine)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        for (int i = 0; i < commandLine.Length; i++)
        {
            char c = commandLine[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord) { words.Add(word.ToString()); word.Clear(); inWord = false; }
                continue;
            }
            inWord = true;
            if (c == '\'')
            {
                int end = commandLine.IndexOf('\'', i + 1);
                if (end < 0) throw new ArgumentException($"unterminated ' in the command: {commandLine}");
                word.Append(commandLine, i + 1, end - i - 1);
                i = end;
            }
            else if (c == '"')
            {
                for (i++; ; i++)
                {
                    if (i >= commandLine.Length) throw new ArgumentException($"unterminated \" in the command: {commandLine}");
                    char d = commandLine[i];
                    if (d == '"') break;
                    if (d == '\\' && i + 1 < commandLine.Length && commandLine[i + 1] is '"' or '\\' or '$' or '`') d = commandLine[++i];
                    word.Append(d);
                }
            }
            else if (c == '\\')
            {
                if (i + 1 >= commandLine.Length) throw new ArgumentException($"trailing backslash in the command: {commandLine}");
                word.Append(commandLine[++i]);
            }
            else word.Append(c);
        }
        if (inWord) words.Add(word.ToString());
        return words;
    }

    /// <summary>Quotes a word for a POSIX shell when it needs it.</summary>
    public static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c))
            ? word
            : "'" + word.Replace("'", "'\\''") + "'";
}
