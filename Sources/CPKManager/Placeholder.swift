/// The Confidential Package Manager contract and its simulator arrive with the installing work (issue 6).
enum ManagerModule {}
