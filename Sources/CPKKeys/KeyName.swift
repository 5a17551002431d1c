/// Key stores and wrapped keys arrive with the keys work (issue 3).
enum KeysModule {}
