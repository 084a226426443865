using System.Security.Cryptography;
using System.Text;

namespace KernelMm.Conformance.Running;

/// <summary>
/// Who saved failures belong to in the <see cref="FailureDatabase"/>: the implementation's label as
/// reports print it, a hash of its program, and where the program is. Two programs with the same
/// file name (two students' <c>buddy</c>) have different hashes and never share saved failures; a
/// program rebuilt at the same location is the same implementation under development, so its saved
/// failures are re-run (and dropped once they pass) after every change, as Hypothesis' database does.
/// </summary>
/// <param name="Label">The name in reports (<c>--name</c>, else the program's file name, else the factory's name).</param>
/// <param name="Program">"sha256:..." of the program's files, or null when unknown (then the label alone decides).</param>
/// <param name="Location">Where the program is (full path and arguments), or null.</param>
public sealed record ImplementationIdentity(string Label, string? Program = null, string? Location = null)
{
    /// <summary>
    /// Whether <paramref name="entry"/> was saved by this implementation: same label, and the same
    /// program (same hash, or the same location), or either side without a hash (entries of version 1
    /// files, identities built from a name alone).
    /// </summary>
    public bool Matches(SavedFailure entry) =>
        entry.Implementation == Label
        && (entry.Program is null || Program is null || entry.Program == Program
            || (entry.Location is not null && entry.Location == Location));

    /// <summary>
    /// An identity whose program hash covers <paramref name="words"/> (the command line, so the same
    /// program run with other arguments is another implementation) and the contents of every file in
    /// <paramref name="files"/> that exists (the executable, a script or assembly it is given).
    /// Errors: <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> when a file
    /// cannot be read.
    /// </summary>
    public static ImplementationIdentity Of(string label, string? location, IEnumerable<string> words, IEnumerable<string> files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var word in words) Add(hash, "word", Encoding.UTF8.GetBytes(word));
        var buffer = new byte[81920];
        foreach (var file in files)
        {
            // Only regular files: devices and pipes report length 0 (and /dev/zero would never end).
            var info = new FileInfo(file);
            if (!info.Exists || info.Length == 0) continue;
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            Add(hash, "file", BitConverter.GetBytes(info.Length));
            long left = info.Length;
            int n;
            while (left > 0 && (n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left))) > 0)
            {
                hash.AppendData(buffer, 0, n);
                left -= n;
            }
        }
        return new ImplementationIdentity(label, "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset())[..32], location);
    }

    private static void Add(IncrementalHash hash, string tag, byte[] bytes)
    {
        hash.AppendData(Encoding.ASCII.GetBytes(tag));
        hash.AppendData(BitConverter.GetBytes(bytes.Length));
        hash.AppendData(bytes);
    }
}
