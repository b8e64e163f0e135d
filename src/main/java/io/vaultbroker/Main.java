package io.vaultbroker; public final class Main { public static void main(String[] a){} }
